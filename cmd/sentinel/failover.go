package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newFailoverCmd(g *globalFlags) *cobra.Command {
	var addr, password string
	cmd := &cobra.Command{
		Use:   "failover NAME [--sentinel HOST:PORT]",
		Short: "Ask a sentinel to fail over a master group now (SENTINEL FAILOVER)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := quietRedisLogs(g, cmd.ErrOrStderr()); err != nil {
				return err
			}
			c := sentinelClient(addr, password)
			defer c.Close()
			reply, err := c.Failover(cmd.Context(), args[0]).Result()
			if err != nil {
				// -INPROG / -NOGOODSLAVE texts, as the sentinel sent them.
				return fmt.Errorf("sentinel failover %s on %s: %w", args[0], addr, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), reply)
			return nil
		},
	}
	addSentinelFlags(cmd, &addr, &password)
	return cmd
}
