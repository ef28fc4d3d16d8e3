package acl

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustRules(t *testing.T, rules ...string) *User {
	t.Helper()
	u, bad, err := NewUser("u").SetRules(rules)
	if err != nil {
		t.Fatalf("rule %q: %v", bad, err)
	}
	return u
}

// TestDescribeMatchesRedis: ACL LIST lines redis-sentinel 7.0.15 printed
// for the same rules (a fresh user, or after reset).
func TestDescribeMatchesRedis(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"on", ">adminpw", "~*", "&*", "+@all"}, "on #5fcf82bc15aef42cd3ec93e6d4b51c04df110cf77ee715f62f3f172ff8ed9de9 ~* &* +@all"},
		{[]string{"on", ">lim", "resetchannels", "&foo*", "-@all", "+ping", "+sentinel|get-master-addr-by-name", "+@connection"},
			"on #1e0afa83c8f066fd3f94ed5a3de611a5e2a00cffa764f92de70f4f8d9ef270e6 resetchannels &foo* -@all +@connection +sentinel|get-master-addr-by-name"},
		{[]string{"+@connection", "+ping"}, "off resetchannels -@all +@connection"},
		{[]string{"+@read", "-@read"}, "off resetchannels -@all"},
		{[]string{"+acl", "-acl|whoami"}, "off resetchannels -@all +acl -acl|whoami"},
		{[]string{"-acl|whoami", "+acl"}, "off resetchannels -@all +acl"},
		{[]string{"+@pubsub", "+@connection", "-@pubsub"}, "off resetchannels -@all +@connection"},
		{[]string{"+@all", "-ping"}, "off resetchannels +@all -ping"},
		{[]string{"+@all", "-ping", "+@connection"}, "off resetchannels +@all"},
		{[]string{"+PING"}, "off resetchannels -@all +ping"},
		{[]string{"~foo", "allkeys"}, "off ~* resetchannels -@all"},
		{[]string{"%R~x"}, "off %R~x resetchannels -@all"},
		{[]string{"&x", "&y", "resetchannels", "&z"}, "off resetchannels &z -@all"},
		{[]string{"on", ">a", ">b", "<a"}, "on #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d resetchannels -@all"},
		{[]string{"nopass", ">x"}, "off #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels -@all"},
		{[]string{">x", "nopass"}, "off nopass resetchannels -@all"},
		{[]string{"skip-sanitize-payload"}, "off skip-sanitize-payload resetchannels -@all"},
		{[]string{"resetkeys", "~a"}, "off ~a resetchannels -@all"},
	} {
		if got := strings.Join(mustRules(t, tc.rules...).Rules(), " "); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.rules, got, tc.want)
		}
	}
}

// TestDescribeGreedyCategories: Redis printed "-@all +@dangerous +@pubsub
// +@connection -hello -auth +client -publish -ping +acl -acl|cat" for
// "+@slow -acl|cat +@admin"; its single commands come in hash-table order,
// so only the categories' order is compared. QUIT and SELECT, which Redis
// 7.0's sentinel lacks, are in @connection here.
func TestDescribeGreedyCategories(t *testing.T) {
	got := mustRules(t, "+@slow", "-acl|cat", "+@admin").CommandRules()
	if !slices.Equal(got[:4], []string{"-@all", "+@dangerous", "+@pubsub", "+@connection"}) {
		t.Fatalf("categories: %q", got)
	}
	want := []string{"-hello", "-auth", "+client", "-publish", "-ping", "+acl", "-acl|cat", "-quit", "-select"}
	rest := slices.Clone(got[4:])
	slices.Sort(rest)
	slices.Sort(want)
	if !slices.Equal(rest, want) {
		t.Fatalf("single commands: %q", got[4:])
	}
}

func TestRuleErrorsMatchRedis(t *testing.T) {
	for rule, want := range map[string]error{
		"+nosuch":                     errUnknownCommand,
		"+acl|nosuch":                 errUnknownCommand,
		"+@nosuch":                    errUnknownCommand,
		"#abc":                        errBadHash,
		"!" + strings.Repeat("0", 64): errNoSuchPass,
		"<nosuch":                     errNoSuchPass,
		"bogus":                       errSyntax,
		"":                            errSyntax,
		"%X~a":                        errSyntax,
		"(+ping)":                     errSelectors,
		"+ping|x":                     errFirstArg,
	} {
		if _, bad, err := NewUser("u").SetRules([]string{"on", rule}); err != want || bad != rule {
			t.Errorf("%q: got %v (rule %q), want %v", rule, err, bad, want)
		}
	}
	if _, _, err := NewUser("u").SetRules([]string{"allchannels", "&x"}); err != errChanAfterAll {
		t.Errorf("&x after allchannels: %v", err)
	}
	if _, _, err := NewUser("u").SetRules([]string{"~x", "allkeys", "~y"}); err != errKeyAfterAll {
		t.Errorf("~y after allkeys: %v", err)
	}
	if err := ValidName("a b"); err == nil {
		t.Error("a name with a space is accepted")
	}
}

func TestSetRulesLeavesTheOriginal(t *testing.T) {
	u := mustRules(t, "on", ">a", "&x")
	before := u.Clone()
	if _, _, err := u.SetRules([]string{"off", ">b", "&y", "+@all", "bogus"}); err == nil {
		t.Fatal("bogus rule accepted")
	}
	if _, _, err := u.SetRules([]string{"off", ">b", "&y"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(u, before) {
		t.Fatalf("SetRules changed its receiver: %+v", u)
	}
}

func TestPermissions(t *testing.T) {
	u := mustRules(t, "on", ">pw", "resetchannels", "&news.*", "-@all", "+@connection", "+sentinel|get-master-addr-by-name", "+subscribe", "+psubscribe")
	for name, want := range map[string]bool{
		"ping": true, "client|list": true, "sentinel|get-master-addr-by-name": true,
		"sentinel|masters": false, "sentinel": false, "role": false, "subscribe": true,
		"not-in-catalog": false,
	} {
		if got := u.CanRun(name); got != want {
			t.Errorf("CanRun(%s) = %v", name, got)
		}
	}
	if !mustRules(t, "+@all").CanRun("not-in-catalog") || mustRules(t, "+@all", "-@all", "+ping").CanRun("not-in-catalog") {
		t.Error("commands outside the catalog need +@all")
	}
	if !u.CanUseChannel("news.sport", false) || u.CanUseChannel("weather", false) {
		t.Error("channel globs")
	}
	if !u.CanUseChannel("news.*", true) || u.CanUseChannel("news.s*", true) {
		t.Error("PSUBSCRIBE needs one of the user's own patterns")
	}
	if !u.CheckPassword("pw") || u.CheckPassword("nope") || mustRules(t, ">pw").CheckPassword("pw") {
		t.Error("CheckPassword: right password, wrong password, user off")
	}
	if !mustRules(t, "on", "nopass").CheckPassword("anything") {
		t.Error("nopass accepts any password")
	}
}

// TestRulesRoundTrip: a user's rendering recreates it exactly.
func TestRulesRoundTrip(t *testing.T) {
	for _, rules := range [][]string{
		{"on", ">a", "#" + strings.Repeat("ab", 32), "~k*", "%W~w", "&c", "+@all", "-sentinel|set", "-@pubsub"},
		{"reset", "+@slow", "-acl|cat", "+@admin"},
		{"nopass", "allkeys", "allchannels", "-@all", "+client", "-client|kill", "+sentinel|myid"},
	} {
		checkRoundTrip(t, mustRules(t, rules...))
	}
}

func checkRoundTrip(t *testing.T, u *User) {
	t.Helper()
	again, bad, err := NewUser(u.Name).SetRules(u.Rules())
	if err != nil {
		t.Fatalf("%s: rule %q does not load again: %v", u.Describe(), bad, err)
	}
	if !reflect.DeepEqual(u, again) {
		t.Fatalf("round trip changed the user\nbefore %s\nafter  %s", u.Describe(), again.Describe())
	}
}

func TestCatalog(t *testing.T) {
	if len(catalog) > 128 {
		t.Fatalf("%d commands do not fit bits", len(catalog))
	}
	for i, e := range catalog {
		if strings.Contains(e.name, "|") && (e.parent < 0 || !hasSubs(e.parent)) {
			t.Errorf("%s has no container before it", e.name)
		}
		if e.cats == 0 || i > 0 && catalog[i-1].name >= e.name {
			t.Errorf("%s: no category, or out of order", e.name)
		}
	}
	if got := CategoriesOf("SENTINEL|Masters"); !slices.Equal(got, []string{"admin", "slow", "dangerous"}) {
		t.Errorf("sentinel|masters: %q", got)
	}
	if CategoriesOf("nosuch") != nil {
		t.Error("a command outside the catalog has categories")
	}
}
