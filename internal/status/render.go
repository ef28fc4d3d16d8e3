package status

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Render writes v as one block per master group: a header line, a replica
// table and a sentinel table.
func Render(w io.Writer, v View) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sentinel %s: %d master group(s)\n", v.Source, len(v.Masters))
	if v.ConfigSave == "failing" {
		fmt.Fprintf(&b, "CONFIG NOT SAVED for %dms: %s (votes and announcements withheld until a save works)\n",
			v.ConfigSaveFailingMS, v.ConfigSaveError)
	}
	if v.InvalidInput > 0 {
		fmt.Fprintf(&b, "invalid network input dropped: %d\n", v.InvalidInput)
	}
	for _, m := range v.Masters {
		state := m.State
		if m.Failover != "" {
			state += ", failover " + m.Failover
		}
		fmt.Fprintf(&b, "\nmaster %s %s  epoch %d  state %s  quorum %d of %d sentinels  down-after %dms  failover-timeout %dms\n",
			m.Name, m.Addr, m.ConfigEpoch, state, m.Quorum, m.KnownSentinels, m.DownAfterMS, m.FailoverTimeoutMS)
		rows := [][]string{{"REPLICA", "ROLE", "STATE", "LINK", "FOLLOWS", "LAG", "PRIORITY", "PROMOTABLE"}}
		for _, r := range m.Replicas {
			lag := "?"
			if r.Lag != nil {
				lag = strconv.FormatInt(*r.Lag, 10)
			}
			promotable := "yes"
			if !r.Eligible {
				promotable = "no: " + r.Reason
			}
			rows = append(rows, []string{r.Addr, r.Role, r.State, r.Link, r.Follows, lag, strconv.Itoa(r.Priority), promotable})
		}
		table(&b, rows)
		rows = [][]string{{"SENTINEL", "RUNID", "STATE", "LAST-HELLO", "VOTE"}}
		for _, s := range m.Sentinels {
			vote := "-"
			if s.VotedLeader != "" {
				vote = fmt.Sprintf("%s epoch %d", short(s.VotedLeader), s.VotedEpoch)
			}
			rows = append(rows, []string{s.Addr, short(s.RunID), s.State, fmt.Sprintf("%dms ago", s.LastHelloMS), vote})
		}
		table(&b, rows)
		if len(m.Proxies) > 0 {
			rows = [][]string{{"PROXY", "ROLE", "STATE", "BACKEND", "CLIENTS", "WAITING"}}
			for _, p := range m.Proxies {
				rows = append(rows, []string{p.Addr, p.Role, p.State, cmp.Or(p.Backend, "(waiting for a master)"),
					fmt.Sprintf("%d/%d", p.Clients, p.MaxClients), strconv.Itoa(p.Waiting)})
			}
			table(&b, rows)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("render status: %w", err)
	}
	return nil
}

// table writes rows indented, columns aligned.
func table(b *strings.Builder, rows [][]string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	// A strings.Builder never fails.
	_ = tw.Flush()
}

// short abbreviates a 40-char run id the way operators compare them.
func short(runid string) string {
	if len(runid) > 8 {
		return runid[:8]
	}
	return runid
}
