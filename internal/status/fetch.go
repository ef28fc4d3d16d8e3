package status

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Querier runs one command; *redis.SentinelClient satisfies it.
type Querier interface {
	Process(ctx context.Context, cmd redis.Cmder) error
}

var _ Querier = (*redis.SentinelClient)(nil)

// Snapshot is the raw state of every master group as one sentinel reports
// it: instance maps keyed by field name.
type Snapshot struct {
	// Source is the sentinel that answered.
	Source string
	Groups []Group
	// Health is our SENTINEL HEALTH reply (config saving, refused input);
	// nil from a sentinel that has none.
	Health map[string]string
}

// Group is one monitored master with its replicas and the other sentinels.
type Group struct {
	Master    map[string]string
	Replicas  []map[string]string
	Sentinels []map[string]string
	// MasterOffset is master_repl_offset from the sentinel's cached INFO of
	// the master, -1 when unknown.
	MasterOffset int64
	// Proxies are the group's SENTINEL PROXIES entries (docs/proxy.md).
	Proxies []map[string]string
}

// Fetch reads a Snapshot from the sentinel behind q. Groups come sorted by
// name. A missing INFO-CACHE only leaves the offsets unknown.
func Fetch(ctx context.Context, q Querier, source string) (Snapshot, error) {
	s := Snapshot{Source: source}
	masters, err := instanceMaps(ctx, q, "masters")
	if err != nil {
		return s, err
	}
	slices.SortFunc(masters, func(a, b map[string]string) int { return strings.Compare(a["name"], b["name"]) })
	for _, m := range masters {
		name := m["name"]
		g := Group{Master: m, MasterOffset: -1}
		if g.Replicas, err = instanceMaps(ctx, q, "replicas", name); err != nil {
			return s, err
		}
		if g.Sentinels, err = instanceMaps(ctx, q, "sentinels", name); err != nil {
			return s, err
		}
		if off, ok := masterOffset(ctx, q, name); ok {
			g.MasterOffset = off
		}
		s.Groups = append(s.Groups, g)
	}
	health := redis.NewMapStringStringCmd(ctx, "sentinel", "health")
	if q.Process(ctx, health) == nil {
		s.Health = health.Val()
	}
	// Redis' sentinel has no proxies: then there are none to show.
	if proxies, err := instanceMaps(ctx, q, "proxies"); err == nil {
		for _, p := range proxies {
			for i := range s.Groups {
				if s.Groups[i].Master["name"] == p["master"] {
					s.Groups[i].Proxies = append(s.Groups[i].Proxies, p)
				}
			}
		}
	}
	return s, nil
}

func instanceMaps(ctx context.Context, q Querier, sub string, args ...any) ([]map[string]string, error) {
	cmd := redis.NewMapStringStringSliceCmd(ctx, append([]any{"sentinel", sub}, args...)...)
	if err := q.Process(ctx, cmd); err != nil {
		return nil, fmt.Errorf("sentinel %s %s: %w", sub, strings.TrimSpace(fmt.Sprint(args...)), err)
	}
	return cmd.Val(), nil
}

// masterOffset reads master_repl_offset from SENTINEL INFO-CACHE: a flat
// array [name, [[age-ms, info-or-null], ...master first], ...].
func masterOffset(ctx context.Context, q Querier, name string) (int64, bool) {
	cmd := redis.NewSliceCmd(ctx, "sentinel", "info-cache", name)
	if err := q.Process(ctx, cmd); err != nil {
		return 0, false
	}
	reply := cmd.Val()
	if len(reply) < 2 {
		return 0, false
	}
	entries, ok := reply[1].([]any)
	if !ok || len(entries) == 0 {
		return 0, false
	}
	first, ok := entries[0].([]any)
	if !ok || len(first) != 2 {
		return 0, false
	}
	info, ok := first[1].(string)
	if !ok {
		return 0, false
	}
	return infoInt(info, "master_repl_offset")
}

func infoInt(info, key string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), key+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
