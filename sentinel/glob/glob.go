// Package glob matches Redis-style glob patterns (PSUBSCRIBE, SENTINEL
// RESET, SENTINEL CONFIG GET): '*', '?', '[...]' classes with ranges and
// '^' negation, and '\' escapes. Unlike path.Match, '*' crosses every byte.
package glob

// Match reports whether s matches pattern; nocase folds ASCII letters.
func Match(pattern, s string, nocase bool) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 1 && pattern[1] == '*' {
				pattern = pattern[1:]
			}
			if len(pattern) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if Match(pattern[1:], s[i:], nocase) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
			pattern = pattern[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			rest, ok := matchClass(pattern[1:], s[0], nocase)
			if !ok {
				return false
			}
			pattern = rest
			s = s[1:]
		default:
			if pattern[0] == '\\' && len(pattern) >= 2 {
				pattern = pattern[1:]
			}
			if len(s) == 0 || !eq(pattern[0], s[0], nocase) {
				return false
			}
			s = s[1:]
			pattern = pattern[1:]
		}
	}
	return len(s) == 0
}

// matchClass matches c against the class that starts after '['. It returns
// the pattern after the closing ']' (an unterminated class ends the pattern).
func matchClass(p string, c byte, nocase bool) (string, bool) {
	not := len(p) > 0 && p[0] == '^'
	if not {
		p = p[1:]
	}
	match := false
	for len(p) > 0 && p[0] != ']' {
		switch {
		case p[0] == '\\' && len(p) >= 2:
			if eq(p[1], c, nocase) {
				match = true
			}
			p = p[2:]
		case len(p) >= 3 && p[1] == '-' && p[2] != ']':
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			cc := c
			if nocase {
				lo, hi, cc = lower(lo), lower(hi), lower(c)
			}
			if cc >= lo && cc <= hi {
				match = true
			}
			p = p[3:]
		default:
			if eq(p[0], c, nocase) {
				match = true
			}
			p = p[1:]
		}
	}
	if len(p) > 0 {
		p = p[1:]
	}
	return p, match != not
}

func eq(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
