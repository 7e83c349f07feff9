// Package dbtest gives tests a fresh database: an SQLite file in a temporary
// directory always, and a PostgreSQL schema of its own when
// TEST_DATABASE_URL is set. Without TEST_DATABASE_URL, PostgreSQL tests skip
// locally and fail when CI=true, so CI can never pass by skipping them.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"netsmith/internal/store"
)

// SQLite returns the URL of a new SQLite database file.
func SQLite(tb testing.TB) string {
	tb.Helper()
	return "sqlite://" + filepath.Join(tb.TempDir(), "netsmith.db")
}

// Postgres returns the URL of a new, empty schema in the test database,
// selected through search_path, dropped when the test ends.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("TEST_DATABASE_URL is not set, and CI=true: PostgreSQL tests must run in CI")
		}
		tb.Skip("TEST_DATABASE_URL is not set; skipping PostgreSQL test")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "nstest_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("connect to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each calls f once per database: SQLite always, PostgreSQL when available,
// as subtests named "sqlite" and "postgres".
func Each(t *testing.T, f func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, Postgres(t))
	})
}

// Open opens the database at url, migrated, and closes it when the test
// ends: the database of tests that need no queue.
func Open(tb testing.TB, url string) *store.DB {
	tb.Helper()
	return OpenOptions(tb, url, store.Options{})
}

// OpenOptions is Open with opts.
func OpenOptions(tb testing.TB, url string, opts store.Options) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.Context(), url, opts)
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(db.Close)
	if _, err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}
