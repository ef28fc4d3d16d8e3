package rawio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair is a connected loopback pair: the accepted side wrapped, the dialed
// side plain.
func pair(t *testing.T) (wrapped net.Conn, plain net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	plain, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	wrapped = Wrap(accepted)
	if _, ok := wrapped.(*Conn); !ok {
		t.Fatalf("Wrap(%T) = %T, want *Conn", accepted, wrapped)
	}
	t.Cleanup(func() { wrapped.Close(); plain.Close() })
	return wrapped, plain
}

func TestWrapLeavesOtherConnectionsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := Wrap(a); got != a {
		t.Fatalf("Wrap(net.Pipe) = %T, want the pipe itself", got)
	}
}

// A write larger than the socket buffers fills them, waits in the Go poller
// for room and goes on where it stopped: every byte arrives, in order.
func TestWriteWaitsForRoomAndLosesNothing(t *testing.T) {
	w, r := pair(t)
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	n, err := w.Write(data)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("read %d bytes, not the %d written in order", len(b), len(data))
	}
}

func TestReadWaitsThenSeesEOF(t *testing.T) {
	w, r := pair(t)
	go func() {
		time.Sleep(20 * time.Millisecond) // the read below must wait in the poller first
		r.Write([]byte("PING\r\n"))
		r.Close()
	}()
	b, err := io.ReadAll(w)
	if err != nil || string(b) != "PING\r\n" {
		t.Fatalf("ReadAll = %q, %v; want PING, nil", b, err)
	}
	if n, err := w.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v; want 0, EOF", n, err)
	}
}

func TestReadKeepsDeadlinesAndClose(t *testing.T) {
	w, _ := pair(t)
	w.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := w.Read(make([]byte, 16))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v, want a timeout", err)
	}
	w.SetReadDeadline(time.Time{})
	done := make(chan error)
	go func() {
		_, err := w.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	w.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read on a closed Conn = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a blocked Read")
	}
}

func TestWriteToAResetPeerFails(t *testing.T) {
	w, r := pair(t)
	r.(*net.TCPConn).SetLinger(0)
	r.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := w.Write([]byte("x")); err != nil {
			var oe *net.OpError
			if !errors.As(err, &oe) || oe.Op != "write" {
				t.Fatalf("Write error %v is not a write *net.OpError", err)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("writes to a reset peer kept succeeding")
}
