package monitor

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseInfo covers the fields of docs/behaviour.md §5 on real redis-server 7.0.15
// output and on hand-written corner cases.
func TestParseInfo(t *testing.T) {
	master := readSample(t, "info_master_7.0.txt")
	replica := readSample(t, "info_replica_7.0.txt")
	tests := []struct {
		name string
		text string
		want Info
	}{
		{
			name: "real master",
			text: master,
			want: Info{
				RunID:            "97d85265f6a58e8eb66b269184c94e2d5ccdb4bd",
				Role:             "master",
				Replicas:         []ReplicaEntry{{IP: "127.0.0.1", Port: 17002, State: "online", Offset: 50, Lag: 1}},
				SlavePriority:    100,
				ReplOffset:       50,
				ReplicaAnnounced: true,
			},
		},
		{
			name: "real replica",
			text: replica,
			want: Info{
				RunID:            "ace47cc5a9ab5e2bd70a252b4883dc1b385edd8d",
				Role:             "slave",
				MasterHost:       "127.0.0.1",
				MasterPort:       17001,
				MasterLinkUp:     true,
				SlavePriority:    100,
				SlaveReplOffset:  50,
				ReplOffset:       50,
				ReplicaAnnounced: true,
			},
		},
		{
			name: "old slaveN form and several replicas",
			text: "role:master\r\nslave0:10.0.0.1,6380,online\r\nslave1:ip=10.0.0.2,port=6381,state=wait_bgsave,offset=7,lag=3\r\n",
			want: Info{
				Role: "master",
				Replicas: []ReplicaEntry{
					{IP: "10.0.0.1", Port: 6380, State: "online"},
					{IP: "10.0.0.2", Port: 6381, State: "wait_bgsave", Offset: 7, Lag: 3},
				},
				SlavePriority:    100,
				ReplicaAnnounced: true,
			},
		},
		{
			name: "replica with link down, replica_priority spelling, unannounced, loading",
			text: "# Replication\nrole:slave\nmaster_host:db-1.example\nmaster_port:6379\nmaster_link_status:down\n" +
				"master_link_down_since_seconds:42\nreplica_priority:0\nreplica_announced:0\nloading:1\n",
			want: Info{
				Role:                "slave",
				MasterHost:          "db-1.example",
				MasterPort:          6379,
				MasterLinkDownSince: 42 * time.Second,
				SlavePriority:       0,
				ReplicaAnnounced:    false,
				Loading:             true,
			},
		},
		{
			name: "missing fields take Sentinel's defaults",
			text: "# Server\r\nredis_version:7.0.15\r\n",
			want: Info{SlavePriority: 100, ReplicaAnnounced: true},
		},
		{
			name: "lines that only look like replicas are skipped",
			text: "role:master\nslave_expires_tracked_keys:0\nslave0:ip=,port=1\nslave1:1.2.3.4,6379\nslave2:ip=1.2.3.4,port=x\n",
			want: Info{Role: "master", SlavePriority: 100, ReplicaAnnounced: true},
		},
		{
			name: "unknown role is no role",
			text: "role:sentinel\n",
			want: Info{SlavePriority: 100, ReplicaAnnounced: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseInfo(tt.text)
			if got.Text != tt.text {
				t.Errorf("Text not kept verbatim")
			}
			got.Text = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseInfo:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A replica that never reached its master reports -1 (Redis 7.0); Sentinel
// keeps the value as is, so must we.
func TestParseInfoNeverConnectedReplica(t *testing.T) {
	got := ParseInfo("role:slave\r\nmaster_link_down_since_seconds:-1\r\n")
	if got.MasterLinkDownSince != -time.Second {
		t.Fatalf("MasterLinkDownSince = %v, want -1s", got.MasterLinkDownSince)
	}
}

func TestParseInfoKeepsAtMostMaxReplicas(t *testing.T) {
	var b strings.Builder
	b.WriteString("role:master\r\n")
	for i := range MaxReplicas + 500 {
		fmt.Fprintf(&b, "slave%d:ip=10.0.%d.%d,port=6379,state=online,offset=1,lag=0\r\n", i, i/256, i%256)
	}
	got := ParseInfo(b.String())
	if len(got.Replicas) != MaxReplicas || got.ReplicasOmitted != 500 {
		t.Fatalf("%d replicas kept, %d omitted; want %d and 500", len(got.Replicas), got.ReplicasOmitted, MaxReplicas)
	}
	if last := got.Replicas[MaxReplicas-1]; last.IP != "10.0.3.231" {
		t.Fatalf("last replica kept = %+v, want the %dth listed", last, MaxReplicas)
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\nslave0:ip=1.2.3.4,port=5,state=online\r\n")
	f.Add("slave0:1.2.3.4,6379,online\r\nslave_priority:x\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		info := ParseInfo(text)
		if len(info.Replicas) > MaxReplicas {
			t.Fatalf("%d replicas", len(info.Replicas))
		}
		for _, r := range info.Replicas {
			if r.IP == "" || r.Port <= 0 || r.Port > 65535 {
				t.Fatalf("replica without an address: %+v", r)
			}
		}
	})
}
