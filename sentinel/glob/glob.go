// Package glob matches Redis-style glob patterns (PSUBSCRIBE, SENTINEL
// RESET, SENTINEL CONFIG GET, COMMAND LIST FILTERBY PATTERN): '*', '?',
// '[...]' classes with ranges and '^' negation, and '\\' escapes. Unlike
// path.Match, '*' crosses every byte.
package glob

// Match reports whether s matches the Redis glob pattern: '*' any run,
// '?' one byte, '[...]' a class with ranges ("a-z", reversed ranges allowed),
// '^' negation and '\' escapes, '\' outside a class quotes the next byte.
// nocase folds ASCII letters (CONFIG GET matches that way). It runs in
// O(len(pattern)*len(s)): a '*' only ever backtracks to the latest star.
func Match(pattern, s string, nocase bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) && pattern[p] == '*' {
			for p < len(pattern) && pattern[p] == '*' {
				p++
			}
			if p == len(pattern) {
				return true
			}
			starP, starI = p, i
			continue
		}
		if p < len(pattern) {
			if ok, next := matchOne(pattern, p, s[i], nocase); ok {
				p, i = next, i+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more byte and retry from there.
		starI++
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchOne matches the single-byte token at pattern[p] against c and returns
// the index just past the token.
func matchOne(pattern string, p int, c byte, nocase bool) (bool, int) {
	switch pattern[p] {
	case '?':
		return true, p + 1
	case '[':
		return matchClass(pattern, p+1, c, nocase)
	case '\\':
		if p+1 < len(pattern) {
			p++
		}
	}
	return equalFold(pattern[p], c, nocase), p + 1
}

// matchClass matches c against the class starting after '['; an unclosed
// class runs to the end of the pattern, as in Redis.
func matchClass(pattern string, p int, c byte, nocase bool) (bool, int) {
	negate := p < len(pattern) && pattern[p] == '^'
	if negate {
		p++
	}
	match := false
	for p < len(pattern) && pattern[p] != ']' {
		switch {
		case pattern[p] == '\\' && p+1 < len(pattern):
			p++
			match = match || pattern[p] == c
			p++
		case p+2 < len(pattern) && pattern[p+1] == '-':
			lo, hi, x := pattern[p], pattern[p+2], c
			if lo > hi {
				lo, hi = hi, lo
			}
			if nocase {
				lo, hi, x = lower(lo), lower(hi), lower(x)
			}
			match = match || (x >= lo && x <= hi)
			p += 3
		default:
			match = match || equalFold(pattern[p], c, nocase)
			p++
		}
	}
	if p < len(pattern) {
		p++ // the closing ']'
	}
	return match != negate, p
}

func equalFold(a, b byte, nocase bool) bool {
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
