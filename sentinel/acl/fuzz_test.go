package acl

import (
	"strings"
	"testing"
)

// FuzzSetRules: any rule list either fails or yields a user whose rendering
// loads again to the same user.
func FuzzSetRules(f *testing.F) {
	for _, seed := range []string{
		"on >pw ~* &* +@all", "reset +@slow -acl|cat +@admin", "nopass %RW~x &y* -@all +client -client|kill",
		"+@all -@pubsub +subscribe <pw !abc", "allchannels &x", "(+ping)",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, _, err := NewUser("u").SetRules(strings.Fields(s))
		if err != nil {
			return
		}
		checkRoundTrip(t, u)
	})
}
