package drill

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// timelineLine renders one phase as the drill prints it.
func timelineLine(pt PhaseTime) string {
	return strings.TrimRight(fmt.Sprintf("%9s  %-21s %s", fmt.Sprintf("+%dms", pt.MS), pt.Phase, pt.Detail), " ")
}

// WriteSummary prints one min/median/max table per summary.
func WriteSummary(w io.Writer, sums []Summary) error {
	for i, s := range sums {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return fmt.Errorf("write summary: %w", err)
			}
		}
		if _, err := fmt.Fprintf(w, "%s: %d run(s), ms since the trigger\n", s.Sentinel, s.Runs); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-22s\truns\tmin\tmedian\tmax\t\n", "phase")
		for _, p := range s.Phases {
			fmt.Fprintf(tw, "%-22s\t%d\t%d\t%d\t%d\t\n", p.Phase, p.N, p.MinMS, p.MedianMS, p.MaxMS)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}
	return nil
}
