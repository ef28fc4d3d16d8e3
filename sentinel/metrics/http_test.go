package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestHealthz(t *testing.T) {
	code, body := get(t, New(&fakeSource{}).Handler(), "/healthz")
	if code != http.StatusOK || body != "ok" {
		t.Fatalf("/healthz = %d %q, want 200 \"ok\"", code, body)
	}
}

func TestReadyzFollowsSource(t *testing.T) {
	src := &fakeSource{}
	h := New(src).Handler()
	for _, ready := range []bool{false, true, false} {
		src.ready.Store(ready)
		want := http.StatusServiceUnavailable
		if ready {
			want = http.StatusOK
		}
		if code, body := get(t, h, "/readyz"); code != want {
			t.Fatalf("ready=%v: /readyz = %d %q, want %d", ready, code, body, want)
		}
	}
}

func TestServeStopsWithContext(t *testing.T) {
	// Reserve a free port; Serve binds its own listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	src := &fakeSource{}
	src.ready.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, New(src), zerolog.Nop()) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/readyz over TCP: %d", resp.StatusCode)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Serve returned before ctx ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	client.CloseIdleConnections()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still answers after Serve returned")
	}
}

func TestServeReportsBindFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	err = Serve(context.Background(), ln.Addr().String(), New(&fakeSource{}), zerolog.Nop())
	var opErr *net.OpError
	if !errors.As(err, &opErr) || !strings.HasPrefix(err.Error(), "metrics listen ") {
		t.Fatalf("Serve on a taken port = %v, want a wrapped listen error", err)
	}
}
