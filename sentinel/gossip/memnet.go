package gossip

import (
	"fmt"

	"github.com/hashicorp/memberlist"
)

// NewOn starts a node on t instead of sockets, such as gossiptest's
// in-memory network, so daemons can be tested whole on fake time.
func NewOn(cfg Config, t memberlist.Transport) (*Group, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("gossip config: %w", err)
	}
	return newGroup(cfg, t)
}
