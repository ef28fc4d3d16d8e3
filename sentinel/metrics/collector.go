package metrics

import (
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed877ff415/sentinel/election"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// snapshotCollector turns the snapshot current at scrape time into gauges,
// so nothing has to be kept in step with the daemon between scrapes.
type snapshotCollector struct {
	src Source

	masterUp, masterSDown, masterODown, failoverInProgress *prometheus.Desc
	configEpoch, quorum, knownSentinels, knownReplicas     *prometheus.Desc
	quorumReachable, majorityReachable, masterInfo         *prometheus.Desc

	instanceUp, instanceRole                        *prometheus.Desc
	replicaOffset, replicaEligible, replicaPriority *prometheus.Desc
	currentEpoch, tilt, gossipAlive, gossipKnown    *prometheus.Desc

	gossipDropped, invalidInput, authFailures, rejectedConns *prometheus.Desc
	saveFailures, saveFailing                                *prometheus.Desc
}

var _ prometheus.Collector = (*snapshotCollector)(nil)

func newSnapshotCollector(src Source) *snapshotCollector {
	master := []string{"master"}
	instance := []string{"master", "addr", "role"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("sentinel_"+name, help, labels, nil)
	}
	return &snapshotCollector{
		src: src,

		masterUp:           d("master_up", "1 unless this sentinel holds the master SDOWN.", master),
		masterSDown:        d("master_sdown", "1 while this sentinel holds the master subjectively down.", master),
		masterODown:        d("master_odown", "1 while this sentinel holds the master objectively down.", master),
		failoverInProgress: d("master_failover_in_progress", "1 while this sentinel runs a failover of the group.", master),
		configEpoch:        d("master_config_epoch", "Configuration epoch of the group's current master.", master),
		quorum:             d("master_quorum", "Configured quorum of the group.", master),
		knownSentinels:     d("known_sentinels", "Sentinels known for the group since the last reset, this one included.", master),
		knownReplicas:      d("known_replicas", "Replicas known for the group.", master),
		quorumReachable: d("quorum_reachable",
			"1 when this sentinel plus the sentinels not down or disconnected reach the quorum.", master),
		majorityReachable: d("majority_reachable",
			"1 when this sentinel plus the sentinels not down or disconnected are a majority of the known sentinels, as a failover leader needs.", master),
		masterInfo: d("master_info", "Always 1; labels carry the current master's address and run id.",
			[]string{"master", "address", "run_id"}),

		instanceUp:      d("instance_up", "1 unless this sentinel holds the instance SDOWN.", instance),
		instanceRole:    d("instance_role", "Role the instance reports in INFO: 1 master, 0 replica.", instance),
		replicaOffset:   d("replica_offset", "Replication offset the replica reports (slave_repl_offset).", instance),
		replicaEligible: d("replica_eligible", "1 when replica selection would consider the replica now.", instance),
		replicaPriority: d("replica_priority", "Replica priority the replica reports (0 never promoted).", instance),

		currentEpoch: d("current_epoch", "This sentinel's current epoch.", nil),
		tilt:         d("tilt", "1 while this sentinel is in TILT mode.", nil),
		gossipAlive:  d("gossip_members_alive", "Other sentinels alive in the gossip group.", nil),
		gossipKnown:  d("gossip_members_known", "Other sentinels known to the gossip group.", nil),

		gossipDropped: d("gossip_dropped_total", "Gossip packets refused, by reason (unauthenticated, replayed, stale, sender-mismatch, …).", []string{"reason"}),
		invalidInput:  d("invalid_input_total", "Network input the state machine dropped as invalid, by source (hello, peer, info, vote, …).", []string{"source"}),
		authFailures:  d("auth_failures_total", "Failed AUTH and HELLO AUTH on the Redis port.", nil),
		rejectedConns: d("rejected_connections_total", "Client connections refused over maxclients.", nil),
		saveFailures:  d("config_save_failures_total", "Failed saves of the configuration since start.", nil),
		saveFailing:   d("config_save_failing", "1 while the configuration cannot be saved (votes and announcements are withheld).", nil),
	}
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.masterUp, c.masterSDown, c.masterODown, c.failoverInProgress,
		c.configEpoch, c.quorum, c.knownSentinels, c.knownReplicas,
		c.quorumReachable, c.majorityReachable, c.masterInfo,
		c.instanceUp, c.instanceRole, c.replicaOffset, c.replicaEligible, c.replicaPriority,
		c.currentEpoch, c.tilt, c.gossipAlive, c.gossipKnown,
		c.gossipDropped, c.invalidInput, c.authFailures, c.rejectedConns, c.saveFailures, c.saveFailing,
	} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	alive, known := c.src.GossipMembers()
	gauge(c.gossipAlive, float64(alive))
	gauge(c.gossipKnown, float64(known))
	r := c.src.Refusals()
	for reason, n := range r.GossipDropped {
		counter(c.gossipDropped, float64(n), reason)
	}
	counter(c.authFailures, float64(r.AuthFailures))
	counter(c.rejectedConns, float64(r.RejectedConnections))

	s := c.src.Snapshot()
	if s == nil {
		return
	}
	for source, n := range s.Rejected {
		counter(c.invalidInput, float64(n), source)
	}
	counter(c.saveFailures, float64(s.SaveFailures))
	gauge(c.saveFailing, bool01(s.SaveError != ""))
	gauge(c.currentEpoch, float64(s.CurrentEpoch))
	gauge(c.tilt, bool01(s.Tilt))
	for i := range s.Masters {
		c.collectMaster(gauge, &s.Masters[i])
	}
}

func (c *snapshotCollector) collectMaster(gauge func(*prometheus.Desc, float64, ...string), m *view.Master) {
	name := m.Name
	sdown := m.Flags.Has(view.FlagSDown)
	gauge(c.masterUp, bool01(!sdown), name)
	gauge(c.masterSDown, bool01(sdown), name)
	gauge(c.masterODown, bool01(m.Flags.Has(view.FlagODown)), name)
	gauge(c.failoverInProgress, bool01(m.FailoverState != ""), name)
	gauge(c.configEpoch, float64(m.ConfigEpoch), name)
	gauge(c.quorum, float64(m.Quorum), name)

	voters := len(m.Sentinels) + 1
	usable := 1
	for i := range m.Sentinels {
		if !m.Sentinels[i].Flags.Has(view.FlagSDown | view.FlagODown | view.FlagDisconnected) {
			usable++
		}
	}
	gauge(c.knownSentinels, float64(voters), name)
	gauge(c.knownReplicas, float64(len(m.Replicas)), name)
	gauge(c.quorumReachable, bool01(usable >= m.Quorum), name)
	gauge(c.majorityReachable, bool01(usable >= election.Majority(voters)), name)
	gauge(c.masterInfo, 1, name, hostPort(m.IP, m.Port), m.RunID)

	c.collectInstance(gauge, name, &m.Instance)
	for i := range m.Replicas {
		c.collectInstance(gauge, name, &m.Replicas[i])
	}
}

func (c *snapshotCollector) collectInstance(gauge func(*prometheus.Desc, float64, ...string), master string, in *view.Instance) {
	role := "master"
	if in.Kind == view.KindReplica {
		role = "replica"
	}
	labels := []string{master, hostPort(in.IP, in.Port), role}
	gauge(c.instanceUp, bool01(!in.Flags.Has(view.FlagSDown)), labels...)
	// The reported role, not ours: an old master still claiming "master"
	// while we hold it as a replica is what this should reveal.
	reported := in.RoleReported
	if reported == "" {
		reported = role
	}
	gauge(c.instanceRole, bool01(reported == "master"), labels...)
	if in.Kind != view.KindReplica {
		return
	}
	gauge(c.replicaOffset, float64(in.SlaveReplOffset), labels...)
	gauge(c.replicaEligible, bool01(in.IneligibleReason == ""), labels...)
	gauge(c.replicaPriority, float64(in.SlavePriority), labels...)
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
