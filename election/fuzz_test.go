package election

import (
	"fmt"
	"testing"
)

const (
	fuzzMaxInFlight = 256 // bounds duplication so one input stays fast
	fuzzMaxInput    = 256 // enough for several elections; the minimizer is quadratic in input length
)

// fuzzNet is an untimed network: messages wait in flight until the fuzz input delivers, drops or
// duplicates them, in any order.
type fuzzNet struct{ inFlight []simMsg }

func (f *fuzzNet) send(m simMsg) {
	if len(f.inFlight) < fuzzMaxInFlight {
		f.inFlight = append(f.inFlight, m)
	}
}

func (f *fuzzNet) take(i int) simMsg {
	m := f.inFlight[i]
	f.inFlight = append(f.inFlight[:i], f.inFlight[i+1:]...)
	return m
}

// FuzzElection lets the input pick the schedule: which message is delivered, dropped or duplicated
// next, who stands, counts, gives up, restarts, is reset or partitioned away. The invariants are the
// simulation's: one vote per voter, master and epoch; one leader per master and epoch; epochs never
// decrease; no win from the minority side of a partition.
func FuzzElection(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 2, 5, 0, 0, 0, 0, 1, 0, 2, 0, 3, 5, 0})                            // 5 nodes: stand, deliver, count
	f.Add([]byte{2, 3, 5, 1, 5, 2, 0, 0, 0, 0, 0, 0, 6, 1, 6, 1, 5, 3, 0, 0, 5, 1})    // 7 nodes, two candidates, restart
	f.Add([]byte{1, 1, 7, 3, 5, 0, 0, 0, 0, 0, 5, 0, 7, 0, 5, 4, 0, 0, 0, 0, 5, 4})    // partition, then heal
	f.Add([]byte{0, 1, 5, 0, 4, 0, 4, 1, 0, 0, 0, 0, 0, 0, 9, 1, 8, 2, 5, 1, 5, 0, 2}) // duplicates, hello, reset
	f.Add([]byte{0, 2, 5, 0, 0, 1, 6, 1, 6, 1, 5, 1, 0, 0, 0, 0, 0, 0, 3, 0, 5, 0, 5}) // vote, crash, recover, vote again
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		n := clusterSizes[int(data[0])%len(clusterSizes)]
		quorum := 1 + int(data[1])%n
		net := &fuzzNet{}
		c := newSimCluster(t, fmt.Sprintf("input %x, n=%d quorum=%d", data, n, quorum), n, quorum, net.send)
		in := data[2:min(len(data), fuzzMaxInput)]
		next := func() int {
			if len(in) == 0 {
				return 0
			}
			b := in[0]
			in = in[1:]
			return int(b)
		}
		for step := 0; len(in) > 0; step++ {
			c.now = int64(step) // only orders the failure message
			switch op := next() % 10; op {
			case 0, 1, 2: // deliver
				if len(net.inFlight) > 0 {
					c.deliver(net.take(next() % len(net.inFlight)))
				}
			case 3: // drop
				if len(net.inFlight) > 0 {
					net.take(next() % len(net.inFlight))
				}
			case 4: // duplicate
				if len(net.inFlight) > 0 {
					net.send(net.inFlight[next()%len(net.inFlight)])
				}
			case 5: // a node stands for a master, or counts its votes and maybe gives up
				i, m, giveUp := next()%n, simMasters[next()%len(simMasters)], next()%2 == 1
				switch node := c.nodes[i]; {
				case !node.up:
				case node.cands[m] == nil:
					c.startCandidacy(i, m)
				case !c.count(i, m) && giveUp:
					delete(node.cands, m)
				}
			case 6: // crash or recover
				if i := next() % n; c.nodes[i].up {
					c.crash(i)
				} else {
					c.recover(i)
				}
			case 7: // partition by a bit mask; 0 heals
				mask := next()
				side := make([]int, n)
				for i := range side {
					side[i] = mask >> i & 1
				}
				c.setPartition(side)
			case 8: // hello
				if i := next() % n; c.nodes[i].up {
					c.hello(i)
				}
			case 9: // SENTINEL RESET
				if i := next() % n; c.nodes[i].up {
					c.reset(i, simMasters[next()%len(simMasters)])
				}
			}
			c.check()
		}
	})
}
