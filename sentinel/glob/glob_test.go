package glob

import (
	"strings"
	"testing"
)

func FuzzMatch(f *testing.F) {
	f.Add("*[a-z]?\\x", "hello")
	f.Fuzz(func(t *testing.T, p, s string) {
		Match(p, s, true)
		if !Match("*", s, false) {
			t.Fatal("* must match everything")
		}
		if !Match(escape(s), s, false) {
			t.Fatalf("escaped %q must match itself", s)
		}
	})
}

func escape(s string) string {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, '\\', s[i])
	}
	return string(out)
}

func TestMatchRedisCases(t *testing.T) {
	cases := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"*", "", false, true},
		{"*", "+switch-master", false, true},
		{"+switch-master", "+switch-master", false, true},
		{"+switch-master", "+switch-maste", false, false},
		{"?", "", false, false},
		{"+s?own", "+sdown", false, true},
		{"[-+]sdown", "-sdown", false, true},
		{"[-+]sdown", "+sdown", false, true},
		{"[-+]sdown", "*sdown", false, false},
		{"[^-+]sdown", "*sdown", false, true},
		{"[^-+]sdown", "+sdown", false, false},
		{"[a-c]x", "bx", false, true},
		{"[c-a]x", "bx", false, true}, // reversed range
		{"[a-c]x", "dx", false, false},
		{"[A-C]x", "bx", true, true},
		{"[A-C]x", "bx", false, false},
		{"\\*", "*", false, true},
		{"\\*", "x", false, false},
		{"[\\]]", "]", false, true},
		{"[\\-]", "-", false, true},
		{"a\\", "a\\", false, true}, // trailing backslash is literal
		{"[abc", "b", false, true},  // unclosed class runs to the end
		{"[]x", "x", false, false},  // empty class matches nothing
		{"*master*", "+switch-master mymaster", false, true},
		{"m*r*s", "mymasters", false, true},
		{"m*r*s", "mymastersx", false, false},
		{"ANNOUNCE-*", "announce-ip", true, true},
		{"ANNOUNCE-*", "announce-ip", false, false},
		{"*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 5000), false, false}, // must not blow up
	}
	for _, tc := range cases {
		if got := Match(tc.pattern, tc.s, tc.nocase); got != tc.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
		}
	}
}
