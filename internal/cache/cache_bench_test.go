package cache_test

import (
	"context"
	"fmt"
	"testing"

	"netsmith/internal/cache"
	"netsmith/internal/dbtest"
	"netsmith/internal/store"
)

func benchConn(b *testing.B) store.Conn {
	b.Helper()
	return dbtest.Open(b, dbtest.SQLite(b)).Conn()
}

func fillOnce(context.Context) (*cache.Entry, error) {
	return &cache.Entry{Body: "hostname {{.hostname}}\n", Provider: "b", Model: "m"}, nil
}

// BenchmarkResolveL1 is a hit served from process memory.
func BenchmarkResolveL1(b *testing.B) {
	c := cache.New(cache.Config{Conn: benchConn(b), Owner: "b"})
	m := cache.Meta{Key: "k", Kind: cache.KindTemplate}
	if _, _, err := c.Resolve(b.Context(), m, fillOnce); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, out, err := c.Resolve(b.Context(), m, fillOnce); err != nil || out != cache.Hit {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkResolveShared is a hit read from the database (SQLite) by a
// replica whose memory does not hold it: a fresh Cache per lookup.
func BenchmarkResolveShared(b *testing.B) {
	conn := benchConn(b)
	const keys = 64
	for i := range keys {
		c := cache.New(cache.Config{Conn: conn, Owner: "b"})
		if _, _, err := c.Resolve(b.Context(), cache.Meta{Key: fmt.Sprint("k", i), Kind: cache.KindTemplate}, fillOnce); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := cache.New(cache.Config{Conn: conn, Owner: "b", L1Size: 1})
		m := cache.Meta{Key: fmt.Sprint("k", i%keys), Kind: cache.KindTemplate}
		if _, out, err := c.Resolve(b.Context(), m, fillOnce); err != nil || out != cache.Hit {
			b.Fatal(out, err)
		}
		i++
	}
}
