package e2e

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// savedState is what a sentinel persisted in its config file for masterName.
type savedState struct {
	myID           string
	currentEpoch   uint64
	configEpoch    uint64
	leaderEpoch    uint64
	master         string   // host:port of the monitor line
	knownReplicas  []string // host:port, sorted
	knownSentinels []string // "host:port runid", sorted
}

// readSaved parses the sentinel directives of the config file at path.
func readSaved(path string) (savedState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return savedState{}, fmt.Errorf("read sentinel config: %w", err)
	}
	var s savedState
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.EqualFold(f[0], "sentinel") {
			continue
		}
		key, args := strings.ToLower(f[1]), f[2:]
		if key == "myid" {
			s.myID = args[0]
			continue
		}
		if key == "current-epoch" {
			if s.currentEpoch, err = strconv.ParseUint(args[0], 10, 64); err != nil {
				return savedState{}, fmt.Errorf("%s: %q: %w", path, line, err)
			}
			continue
		}
		if args[0] != masterName {
			continue
		}
		switch {
		case key == "monitor" && len(args) >= 3:
			s.master = net.JoinHostPort(args[1], args[2])
		case key == "config-epoch" && len(args) == 2:
			s.configEpoch, err = strconv.ParseUint(args[1], 10, 64)
		case key == "leader-epoch" && len(args) == 2:
			s.leaderEpoch, err = strconv.ParseUint(args[1], 10, 64)
		case (key == "known-replica" || key == "known-slave") && len(args) == 3:
			s.knownReplicas = append(s.knownReplicas, net.JoinHostPort(args[1], args[2]))
		case key == "known-sentinel" && len(args) == 4:
			s.knownSentinels = append(s.knownSentinels, net.JoinHostPort(args[1], args[2])+" "+args[3])
		}
		if err != nil {
			return savedState{}, fmt.Errorf("%s: %q: %w", path, line, err)
		}
	}
	slices.Sort(s.knownReplicas)
	slices.Sort(s.knownSentinels)
	return s, nil
}
