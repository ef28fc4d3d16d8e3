package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	// startTimeout bounds how long a fresh process may take to answer PING.
	startTimeout = 10 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 2 * time.Second
	// tailBytes caps how much of a log LogTail reads.
	tailBytes = 64 << 10
)

// ErrAddrInUse reports that a process exited at start-up because its port
// was taken (FreePort cannot reserve a port).
var ErrAddrInUse = errors.New("address already in use")

// process is one started child. done is closed by the goroutine that reaps
// it; waitErr is written before that and read only after.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// startProcess runs argv in dir, in its own process group, appending stdout
// and stderr to logPath.
func startProcess(argv []string, dir, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	// The child gets its own copy of the descriptor; ours is not needed after Start.
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup signals the whole group, so children the process forked (a
// Redis BGSAVE, a sentinel script) are reached too, even after the leader
// exited. A group that no longer exists is not an error.
func (p *process) signalGroup(sig syscall.Signal) error {
	err := syscall.Kill(-p.pid(), sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.pid(), err)
	}
	return nil
}

// kill SIGKILLs the group and waits until the leader is reaped.
func (p *process) kill() error {
	err := p.signalGroup(syscall.SIGKILL)
	<-p.done
	return err
}

// stop asks the leader to exit with SIGTERM and SIGKILLs the group after
// grace; it always ends with the group killed and the leader reaped. Only
// the leader gets SIGTERM so it can stop and reap its own children.
func (p *process) stop(grace time.Duration) error {
	if !p.exited() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return errors.Join(fmt.Errorf("sigterm %d: %w", p.pid(), err), p.kill())
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.done:
		case <-timer.C:
		}
	}
	return p.kill()
}

// awaitReady polls ping until it succeeds, the process exits or ctx (capped
// at startTimeout) ends. On failure the caller must kill the process.
func awaitReady(ctx context.Context, p *process, logPath string, ping func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		err := ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			tail := logTail(logPath, 20)
			if strings.Contains(strings.ToLower(tail), "address already in use") {
				return fmt.Errorf("exited during start-up: %w\n%s", ErrAddrInUse, tail)
			}
			return fmt.Errorf("exited during start-up (%v):\n%s", p.waitErr, tail)
		case <-ctx.Done():
			return fmt.Errorf("no reply to PING: %w (last error: %v)\n%s", ctx.Err(), err, logTail(logPath, 20))
		case <-ticker.C:
		}
	}
}

// logTail returns the last n lines of the file at path, or a note saying why
// it could not be read; it is meant for failure messages.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	start := max(info.Size()-tailBytes, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, start, info.Size()-start))
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
