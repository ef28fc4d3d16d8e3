package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seed877ff415/sentinel/internal/rawio"
)

// loop forwards the bytes of its share of the connected clients and their
// backends on one goroutine, over its own edge-triggered epoll set, as a
// thread of HAProxy's does (docs/proxy.md, "Bytes"). A message costs one
// read and one write, a batch of ready sockets one epoll_wait; no
// goroutine is parked and woken per message, which is what two goroutines
// per connection on the Go netpoller paid for.
//
// The loop owns the sockets it forwards: it gets duplicates of their file
// descriptors and alone reads, writes and closes them, so a number is
// never reused under it. Other goroutines hand flows in (add) and ask for
// them to end (kill); both go through a queue and an eventfd wake-up.
type loop struct {
	epfd, wakefd int
	ep           *os.File // epfd in the Go poller, which wakes the loop
	buf          []byte   // the read buffer, loop goroutine only
	ends         []*end   // by file descriptor, loop goroutine only
	events       []unix.EpollEvent

	mu      sync.Mutex
	adds    []*flow
	kills   []*flow
	woken   bool // a wake-up is pending
	stopped bool
}

// flow is one client connection and its backend, forwarded by the loop.
type flow struct {
	lp   *loop
	pc   *pconn
	ends [2]end // client, backend
	done func() // called on the loop once both sockets are closed
	dead bool   // loop goroutine only
}

// end is one socket of a flow and the bytes waiting to be written to it.
type end struct {
	fl      *flow
	fd      int
	peer    *end
	pending []byte    // read from peer, not yet written here: peer is not read meanwhile
	held    *[]byte   // the pooled buffer behind pending
	count   func(int) // bytes written here
}

const maxEvents = 128

func newLoop(ctx context.Context) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("proxy loop: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("proxy loop: epoll fd: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("proxy loop: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("proxy loop: register eventfd: %w", err)
	}
	// A non-blocking descriptor joins the Go poller.
	lp := &loop{epfd: epfd, wakefd: wakefd, ep: os.NewFile(uintptr(epfd), "proxy-epoll"), buf: make([]byte, bufSize), events: make([]unix.EpollEvent, maxEvents)}
	context.AfterFunc(ctx, lp.wake)
	return lp, nil
}

// add hands client and backend to the loop; on success the loop owns
// duplicates of their sockets and the caller closes the originals. in
// and out count the bytes written to the backend and to the client.
func (lp *loop) add(pc *pconn, client, backend net.Conn, in, out func(int), done func()) (*flow, error) {
	fl := &flow{lp: lp, pc: pc, done: done}
	for i, c := range []net.Conn{client, backend} {
		fd, err := dupFd(c)
		if err != nil {
			for j := range i {
				unix.Close(fl.ends[j].fd)
			}
			return nil, err
		}
		fl.ends[i] = end{fl: fl, fd: fd}
	}
	fl.ends[0].peer, fl.ends[1].peer = &fl.ends[1], &fl.ends[0]
	fl.ends[0].count, fl.ends[1].count = out, in
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.stopped {
		unix.Close(fl.ends[0].fd)
		unix.Close(fl.ends[1].fd)
		return nil, errors.New("proxy loop: stopped")
	}
	lp.adds = append(lp.adds, fl)
	lp.wakeLocked()
	return fl, nil
}

// kill asks the loop to close fl; from any goroutine.
func (fl *flow) kill() {
	lp := fl.lp
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.kills = append(lp.kills, fl)
	lp.wakeLocked()
}

func (lp *loop) wake() {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.wakeLocked()
}

func (lp *loop) wakeLocked() {
	if lp.woken || lp.stopped {
		return
	}
	lp.woken = true
	var one = [8]byte{1}
	unix.Write(lp.wakefd, one[:])
}

// dupFd duplicates the socket of c. The duplicate shares its open file,
// so it is non-blocking and keeps TCP_NODELAY.
func dupFd(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("proxy loop: %T has no file descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("proxy loop: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, fmt.Errorf("proxy loop: %w", err)
	}
	if derr != nil {
		return -1, fmt.Errorf("proxy loop: dup socket: %w", derr)
	}
	return fd, nil
}

// run forwards until ctx ends, then closes every flow and the loop.
//
// It collects ready sockets with a non-blocking epoll_wait and, when
// there are none, waits for the epoll descriptor itself in the Go poller:
// a loop blocked in epoll_wait would hold its P in a system call, and the
// runtime would take it back and wake a spinning thread every time.
func (lp *loop) run(ctx context.Context) {
	rc, err := lp.ep.SyscallConn()
	n, werr := 0, error(nil)
	poll := func(fd uintptr) bool {
		n, werr = pollNow(int(fd), lp.events)
		return n != 0 || errors.Is(werr, unix.EINTR)
	}
	for err == nil && ctx.Err() == nil {
		if err = rc.Read(poll); err == nil && werr != nil && !errors.Is(werr, unix.EINTR) {
			err = werr
		}
		if err != nil {
			break // only a bad epoll descriptor fails: nothing to wait on any more
		}
		for _, ev := range lp.events[:max(n, 0)] {
			if int(ev.Fd) == lp.wakefd {
				lp.drainQueue()
				continue
			}
			e := lp.endOf(int(ev.Fd))
			if e == nil {
				continue // closed earlier in this batch
			}
			if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 && e.pending != nil {
				lp.flush(e)
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				lp.pump(e, e.peer)
			}
		}
	}
	lp.mu.Lock()
	lp.stopped = true
	adds := lp.adds
	lp.adds, lp.kills = nil, nil
	lp.mu.Unlock()
	for _, fl := range adds {
		lp.end(fl)
	}
	for _, e := range lp.ends {
		if e != nil {
			lp.end(e.fl)
		}
	}
	unix.Close(lp.wakefd)
	lp.ep.Close()
}

func (lp *loop) isStopped() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.stopped
}

func (lp *loop) endOf(fd int) *end {
	if fd < 0 || fd >= len(lp.ends) {
		return nil
	}
	return lp.ends[fd]
}

// drainQueue registers the flows handed in and closes the ones asked to
// end. A socket registered with data already waiting is reported ready
// at once, so nothing is read here.
func (lp *loop) drainQueue() {
	var b [8]byte
	lp.mu.Lock()
	unix.Read(lp.wakefd, b[:])
	lp.woken = false
	adds, kills := lp.adds, lp.kills
	lp.adds, lp.kills = nil, nil
	lp.mu.Unlock()
	for _, fl := range adds {
		for i := range fl.ends {
			e := &fl.ends[i]
			for e.fd >= len(lp.ends) {
				lp.ends = append(lp.ends, nil)
			}
			lp.ends[e.fd] = e
		}
		for i := range fl.ends {
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fl.ends[i].fd)}
			if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, fl.ends[i].fd, &ev); err != nil {
				lp.end(fl)
				break
			}
		}
	}
	for _, fl := range kills {
		lp.end(fl)
	}
}

// pump moves what src has to dst until src has no more for now, dst
// cannot take more, or either side ends. After a short read it waits for
// the next edge instead of making the read that would fail with EAGAIN:
// with edge triggering every arriving segment is a new edge.
func (lp *loop) pump(src, dst *end) {
	if src.fl.dead || dst.pending != nil {
		return // dst's EPOLLOUT resumes src
	}
	for {
		n, err := rawio.Read(src.fd, lp.buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return
		case err != nil || n <= 0:
			lp.end(src.fl) // EOF or a dead socket: close both, as a client would see
			return
		}
		if !lp.write(dst, lp.buf[:n]) || n < len(lp.buf) {
			return
		}
	}
}

// write writes b to dst and reports whether all of it went; what the
// socket cannot take now is kept for dst's next EPOLLOUT.
func (lp *loop) write(dst *end, b []byte) bool {
	for len(b) > 0 {
		w, err := rawio.Write(dst.fd, b)
		if w > 0 {
			dst.count(w)
			b = b[w:]
			continue
		}
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			if dst.held == nil {
				dst.held = bufs.Get().(*[]byte)
			}
			dst.pending = (*dst.held)[:copy(*dst.held, b)]
		default:
			lp.end(dst.fl)
		}
		return false
	}
	return true
}

// flush writes what e has pending and, once all of it went, reads from
// its peer again.
func (lp *loop) flush(e *end) {
	pending := e.pending
	e.pending = nil
	if !lp.write(e, pending) || e.fl.dead {
		return
	}
	bufs.Put(e.held)
	e.held = nil
	lp.pump(e.peer, e)
}

// end closes both sockets of fl, which leaves the epoll set with them,
// and reports the flow done.
func (lp *loop) end(fl *flow) {
	if fl.dead {
		return
	}
	fl.dead = true
	for i := range fl.ends {
		e := &fl.ends[i]
		if lp.endOf(e.fd) == e {
			lp.ends[e.fd] = nil
		}
		unix.Close(e.fd)
		if e.held != nil {
			bufs.Put(e.held)
			e.held, e.pending = nil, nil
		}
	}
	fl.pc.markDone()
	fl.done()
}

// pollNow is epoll_wait with timeout 0, unannounced like rawio's read and
// write: it cannot block (docs/proxy.md, "Bytes").
func pollNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
