package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// namePrefix starts every namespace and root-side link a Lab creates.
const namePrefix = "pt"

// cmdTimeout bounds one ip or nft invocation.
const cmdTimeout = 10 * time.Second

// ErrUnavailable says the machine cannot build a lab (not root, no ip or
// nft, no namespaces); tests skip on it.
var ErrUnavailable = errors.New("network namespaces unavailable")

// Host is one namespace of a lab.
type Host struct {
	NetNS string
	IP    string
}

// Lab is a running lab network. Hosts and CtlIP never change after New.
type Lab struct {
	Hosts []Host
	// CtlIP is the controller's address on the bridge, in the caller's
	// namespace.
	CtlIP string

	prefix  string // "pt<pid>-<n>"
	bridge  string // the bridge's namespace
	ctlLink string // the controller's veth, in the caller's namespace

	mu sync.Mutex // serialises changes to the faults chain
}

// labSeq numbers labs within one process; it also picks their subnet.
var labSeq struct {
	sync.Mutex
	n int
}

// Available reports why no lab can be built here, or nil. The first call
// builds a namespace with a bridge-family nft table and removes it again,
// so a root without CAP_SYS_ADMIN or a kernel without nf_tables is caught.
func Available() error {
	availableOnce.Do(func() { availableErr = probe() })
	return availableErr
}

var (
	availableOnce sync.Once
	availableErr  error
)

func probe() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrUnavailable)
	}
	for _, bin := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: %s not installed: %v", ErrUnavailable, bin, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	name := fmt.Sprintf("%s%d-probe", namePrefix, os.Getpid())
	if _, err := run(ctx, "", "ip", "netns", "add", name); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	_, err := run(ctx, "table bridge probe {\n}\n", "ip", "netns", "exec", name, "nft", "-f", "-")
	if _, derr := run(ctx, "", "ip", "netns", "del", name); derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// New builds a lab of n hosts (1..250) and returns it with every host able to
// reach every other and the controller. On error nothing is left behind.
func New(ctx context.Context, n int) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if n < 1 || n > 250 {
		return nil, fmt.Errorf("lab of %d hosts: want 1..250", n)
	}
	labSeq.Lock()
	labSeq.n++
	seq := labSeq.n
	labSeq.Unlock()
	prefix := fmt.Sprintf("%s%d-%d", namePrefix, os.Getpid(), seq)
	subnet, err := freeSubnet(ctx, seq)
	if err != nil {
		return nil, err
	}
	l := &Lab{
		CtlIP:   subnet + ".254",
		prefix:  prefix,
		bridge:  prefix + "br",
		ctlLink: prefix + "c",
	}
	for i := range n {
		l.Hosts = append(l.Hosts, Host{NetNS: fmt.Sprintf("%sh%d", prefix, i+1), IP: fmt.Sprintf("%s.%d", subnet, i+1)})
	}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("build lab %s: %w", prefix, err), l.Close())
	}
	return l, nil
}

// freeSubnet picks a /24 in 10.128.0.0/9 that no interface here is on yet.
// The first candidate comes from the pid and lab number, so that two test
// processes building labs at the same moment start far apart.
func freeSubnet(ctx context.Context, seq int) (string, error) {
	out, err := run(ctx, "", "ip", "-4", "-o", "addr", "show")
	if err != nil {
		return "", err
	}
	const subnets = 1 << 15
	start := (os.Getpid()%512)*64 + seq%64
	for k := range 64 {
		i := (start + k) % subnets
		subnet := fmt.Sprintf("10.%d.%d", 128+i>>8, i&0xff)
		if !strings.Contains(out, " "+subnet+".") {
			return subnet, nil
		}
	}
	return "", errors.New("no free /24 in 10.128.0.0/9")
}

func (l *Lab) build(ctx context.Context) error {
	steps := [][]string{
		{"ip", "netns", "add", l.bridge},
		{"ip", "-n", l.bridge, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", l.bridge, "link", "set", "br0", "up"},
	}
	for i, h := range l.Hosts {
		port := fmt.Sprintf("h%d", i+1)
		steps = append(steps,
			[]string{"ip", "netns", "add", h.NetNS},
			[]string{"ip", "link", "add", "eth0", "netns", h.NetNS, "type", "veth", "peer", "name", port, "netns", l.bridge},
			[]string{"ip", "-n", l.bridge, "link", "set", port, "master", "br0", "up"},
			[]string{"ip", "-n", h.NetNS, "addr", "add", h.IP + "/24", "dev", "eth0"},
			[]string{"ip", "-n", h.NetNS, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", h.NetNS, "link", "set", "lo", "up"},
		)
	}
	steps = append(steps,
		[]string{"ip", "link", "add", l.ctlLink, "type", "veth", "peer", "name", "ctl", "netns", l.bridge},
		[]string{"ip", "-n", l.bridge, "link", "set", "ctl", "master", "br0", "up"},
		[]string{"ip", "addr", "add", l.CtlIP + "/24", "dev", l.ctlLink},
		[]string{"ip", "link", "set", l.ctlLink, "up"},
	)
	for _, argv := range steps {
		if _, err := run(ctx, "", argv...); err != nil {
			return err
		}
	}
	// The controller is exempt from every fault; faults is flushed on Heal.
	ruleset := fmt.Sprintf(`table bridge lab {
	chain faults {
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip saddr %[1]s accept
		ip daddr %[1]s accept
		jump faults
	}
}
`, l.CtlIP)
	if _, err := l.nft(ctx, ruleset); err != nil {
		return err
	}
	return l.waitLinks(ctx)
}

// waitLinks waits until the controller can open a TCP connection attempt
// to each host without a routing error (veths come up asynchronously).
func (l *Lab) waitLinks(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for _, h := range l.Hosts {
		for {
			// Nothing listens yet: a refusal proves the path works.
			c, err := net.DialTimeout("tcp", net.JoinHostPort(h.IP, "9"), 200*time.Millisecond)
			if err == nil {
				_ = c.Close()
				break
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("host %s unreachable from the controller: %w", h.IP, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Cut isolates the given hosts from every other host, and heals any earlier
// fault first: their frames vanish at the bridge both ways.
func (l *Lab) Cut(ctx context.Context, hosts ...int) error {
	var rules []string
	for _, i := range hosts {
		ip := l.Hosts[i].IP
		rules = append(rules, "ip saddr "+ip+" drop", "ip daddr "+ip+" drop")
	}
	return l.setFaults(ctx, rules)
}

// CutPort drops every TCP and UDP frame between hosts to or from port,
// replacing any earlier fault: the services on it lose each other while
// everything else still flows.
func (l *Lab) CutPort(ctx context.Context, port int) error {
	var rules []string
	for _, proto := range []string{"tcp", "udp"} {
		for _, dir := range []string{"sport", "dport"} {
			rules = append(rules, fmt.Sprintf("%s %s %d drop", proto, dir, port))
		}
	}
	return l.setFaults(ctx, rules)
}

// Loss drops percent of the frames from and to the given hosts at random,
// replacing any earlier fault.
func (l *Lab) Loss(ctx context.Context, percent int, hosts ...int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("loss of %d%%: want 0..100", percent)
	}
	var rules []string
	for _, i := range hosts {
		ip := l.Hosts[i].IP
		for _, dir := range []string{"saddr", "daddr"} {
			switch percent {
			case 0:
			case 100: // nft refuses "< 100" on a mod 100 value
				rules = append(rules, fmt.Sprintf("ip %s %s drop", dir, ip))
			default:
				rules = append(rules, fmt.Sprintf("ip %s %s numgen random mod 100 < %d drop", dir, ip, percent))
			}
		}
	}
	return l.setFaults(ctx, rules)
}

// Heal removes every fault.
func (l *Lab) Heal(ctx context.Context) error { return l.setFaults(ctx, nil) }

// setFaults replaces the faults chain in one nft transaction, so no frame
// sees half a change.
func (l *Lab) setFaults(ctx context.Context, rules []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString("flush chain bridge lab faults\n")
	for _, r := range rules {
		b.WriteString("add rule bridge lab faults " + r + "\n")
	}
	_, err := l.nft(ctx, b.String())
	return err
}

func (l *Lab) nft(ctx context.Context, script string) (string, error) {
	return run(ctx, script, "ip", "netns", "exec", l.bridge, "nft", "-f", "-")
}

// Close removes the lab's namespaces and the controller's link. Processes
// still running in a host keep it alive until they exit, cut off from the
// bridge; callers stop them first.
func (l *Lab) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return removeLab(ctx, l.prefix, l.ctlLink)
}

// Sweep removes the namespaces named pt<pid>-… that runs of a process that
// no longer exists left behind; their controller links go with the bridge
// namespace that holds the peer.
func Sweep(ctx context.Context) error {
	if err := Available(); err != nil {
		return err
	}
	var errs []error
	out, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		return err
	}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if pid, ok := ownerPID(f[0]); ok && !alive(pid) {
			if _, err := run(ctx, "", "ip", "netns", "del", f[0]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeLab deletes every namespace starting with prefix and the link.
func removeLab(ctx context.Context, prefix, link string) error {
	var errs []error
	if _, err := run(ctx, "", "ip", "link", "del", link); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		errs = append(errs, err)
	}
	out, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], prefix) && isLabName(f[0], prefix) {
			if _, err := run(ctx, "", "ip", "netns", "del", f[0]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// isLabName reports whether name is prefix's bridge or one of its hosts,
// not the namespace of lab 12 when prefix is lab 1's.
func isLabName(name, prefix string) bool {
	rest := strings.TrimPrefix(name, prefix)
	if rest == "br" {
		return true
	}
	if !strings.HasPrefix(rest, "h") {
		return false
	}
	_, err := strconv.Atoi(rest[1:])
	return err == nil
}

// ownerPID parses the pid out of a lab namespace name "pt<pid>-<seq>…".
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// run executes argv with stdin, returning stdout; the error quotes stderr.
func run(ctx context.Context, stdin string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
