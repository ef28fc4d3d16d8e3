package config

import (
	"errors"
	"strings"
)

var errUnbalanced = errors.New("unbalanced quotes")

// splitArgs splits a config line into arguments the way Redis'
// sdssplitargs does: double quotes understand \n \r \t \b \a \xHH and
// backslash-escaped characters, single quotes only \', a quote may open in
// the middle of a token, and a closing quote must end the token.
func splitArgs(line string) ([]string, error) {
	var args []string
	i, n := 0, len(line)
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return args, nil
		}
		cur := []byte{}
		inDouble, inSingle, done := false, false, false
		for !done {
			switch {
			case inDouble:
				if i >= n {
					return nil, errUnbalanced
				}
				ch := line[i]
				switch {
				case ch == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 4
				case ch == '\\' && i+1 < n:
					cur = append(cur, unescape(line[i+1]))
					i += 2
				case ch == '"':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
					i++
				default:
					cur = append(cur, ch)
					i++
				}
			case inSingle:
				if i >= n {
					return nil, errUnbalanced
				}
				ch := line[i]
				switch {
				case ch == '\\' && i+1 < n && line[i+1] == '\'':
					cur = append(cur, '\'')
					i += 2
				case ch == '\'':
					if i+1 < n && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
					i++
				default:
					cur = append(cur, ch)
					i++
				}
			case i >= n || isSpace(line[i]):
				done = true
			case line[i] == '"':
				inDouble = true
				i++
			case line[i] == '\'':
				inSingle = true
				i++
			default:
				cur = append(cur, line[i])
				i++
			}
		}
		args = append(args, string(cur))
	}
}

// quoteArg renders s so that splitArgs returns it unchanged: bare when
// that is safe, otherwise double-quoted with escapes.
func quoteArg(s string) string {
	if s != "" && !needsQuotes(s) {
		return s
	}
	return quote(s)
}

// quote double-quotes s with Redis' escapes (sdscatrepr).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if ch < 0x20 || ch >= 0x7f {
				const digits = "0123456789abcdef"
				b.WriteString(`\x`)
				b.WriteByte(digits[ch>>4])
				b.WriteByte(digits[ch&0xf])
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func joinArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quoteArg(a)
	}
	return strings.Join(q, " ")
}

func needsQuotes(s string) bool {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\'' || ch == '\\' {
			return true
		}
	}
	return false
}

// isSpace matches C's isspace in the "C" locale.
func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

func isHex(ch byte) bool {
	return ('0' <= ch && ch <= '9') || ('a' <= ch && ch <= 'f') || ('A' <= ch && ch <= 'F')
}

func unhex(ch byte) byte {
	switch {
	case ch <= '9':
		return ch - '0'
	case ch >= 'a':
		return ch - 'a' + 10
	default:
		return ch - 'A' + 10
	}
}

func unescape(ch byte) byte {
	switch ch {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	default:
		return ch
	}
}
