package main

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestLimitPerIP: a third connection from one address is closed at once,
// and a slot is free again once a connection closes.
func TestLimitPerIP(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitPerIP(raw, 2, nil)
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	defer second.Close()

	third := dial()
	third.SetReadDeadline(time.Now().Add(10 * time.Second)) // ends a hung test only
	if _, err := third.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("third connection: read %v, want EOF (closed by the listener)", err)
	}

	first.Close()
	first.Close() // a second Close must not free a second slot
	fourth := dial()
	srvFourth := <-accepted
	defer srvFourth.Close()
	if _, err := fourth.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	srvFourth.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(srvFourth, b); err != nil || b[0] != 'x' {
		t.Fatalf("fourth connection after a slot freed: %v", err)
	}

	fifth := dial() // two open again: refused
	fifth.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := fifth.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("fifth connection: read %v, want EOF", err)
	}
}

// TestLimitPerIPExemptsLoopback: serve does not count this host's own
// clients (load tests open thousands of connections).
func TestLimitPerIPExemptsLoopback(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitPerIP(raw, 1, isLoopback)
	defer ln.Close()
	for i := range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer s.Close()
	}
}
