package main

import (
	"net"
	"sync"
)

// ipLimitListener accepts at most max open connections from one remote IP
// address and closes any more at once, so that one client holding
// connections open (slow bodies, idle keep-alives) cannot use up the
// process's file descriptors for everyone. Addresses exempt says so are
// not counted.
type ipLimitListener struct {
	net.Listener
	max    int
	exempt func(ip string) bool

	mu   sync.Mutex
	open map[string]int // by remote IP
}

func limitPerIP(ln net.Listener, max int, exempt func(ip string) bool) net.Listener {
	if max <= 0 {
		return ln
	}
	return &ipLimitListener{Listener: ln, max: max, exempt: exempt, open: map[string]int{}}
}

func (l *ipLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if host, _, err := net.SplitHostPort(ip); err == nil {
			ip = host
		}
		if l.exempt != nil && l.exempt(ip) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &ipConn{Conn: c, release: sync.OnceFunc(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.open[ip]--; l.open[ip] == 0 {
				delete(l.open, ip)
			}
		})}, nil
	}
}

// ipConn gives its slot back when closed (once, however often Close is
// called).
type ipConn struct {
	net.Conn
	release func()
}

func (c *ipConn) Close() error {
	c.release()
	return c.Conn.Close()
}
