package config

import (
	"slices"
	"testing"
)

func TestSplitArgsLikeSdssplitargs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`port 26379`, []string{"port", "26379"}},
		{"  a \t b  ", []string{"a", "b"}},
		{`a "b c" d`, []string{"a", "b c", "d"}},
		{`"" x`, []string{"", "x"}},
		{`"\x41\x4a\n\t\r\a\b\"\\\q"`, []string{"AJ\n\t\r\a\b\"\\q"}},
		{`"\x4g"`, []string{"x4g"}},
		{`'it\'s' '\n'`, []string{"it's", `\n`}},
		{`ab"c d"`, []string{"abc d"}}, // a quote opens mid-token
		{`back\slash`, []string{`back\slash`}},
		{"\v\f", nil},
	}
	for _, tc := range cases {
		got, err := splitArgs(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSplitArgsRejectsUnbalancedQuotes(t *testing.T) {
	for _, in := range []string{`"abc`, `'abc`, `"abc"d`, `'abc'd`, `"abc\"`, `a "b`} {
		if got, err := splitArgs(in); err == nil {
			t.Errorf("splitArgs(%q) = %q, want an error", in, got)
		}
	}
}

func TestQuoteArgRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", "two words", `q"uote`, "it's", `back\slash`, "\x00\x01\xff", "tab\there", "né", "#hash"} {
		q := quoteArg(s)
		got, err := splitArgs("x " + q)
		if err != nil || len(got) != 2 || got[1] != s {
			t.Errorf("quoteArg(%q) = %s, splits to %q, %v", s, q, got, err)
		}
	}
	if q := quoteArg("plain"); q != "plain" {
		t.Errorf("quoteArg(plain) = %s, want it bare", q)
	}
}
