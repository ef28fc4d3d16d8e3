package sentinel

import (
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

func TestClientsFor(t *testing.T) {
	for _, tc := range []struct {
		limit      uint64
		maxclients int
		want       int
		fails      bool
	}{
		{10032, 10000, 10000, false},
		{1 << 20, 10000, 10000, false},
		{1024, 10000, 992, false},
		{33, 10000, 1, false},
		{32, 10000, 0, true},
	} {
		got, err := clientsFor(tc.limit, tc.maxclients)
		if got != tc.want || (err != nil) != tc.fails {
			t.Errorf("clientsFor(%d, %d) = %d, %v", tc.limit, tc.maxclients, got, err)
		}
	}
}

// A soft limit below maxclients + reserved is raised, as Redis does.
func TestFitMaxClientsRaisesTheSoftLimit(t *testing.T) {
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Max < 2048 {
		t.Skipf("hard limit %d too low for this test", orig.Max)
	}
	t.Cleanup(func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &orig) })
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 256, Max: orig.Max}); err != nil {
		t.Fatal(err)
	}
	got, err := fitMaxClients(1000, zerolog.Nop())
	if err != nil || got != 1000 {
		t.Fatalf("fitMaxClients(1000) = %d, %v", got, err)
	}
	var after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &after); err != nil || after.Cur < 1000+reservedFDs {
		t.Fatalf("limit after: %+v %v", after, err)
	}
}
