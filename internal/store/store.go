// Package store is netsmith's database: Open returns it (connection pools,
// dialect, River's migrations and netsmith's), and this package holds
// netsmith's own tables (jobs and results, batches, templates, API keys,
// budgets and the ledger, economy leases and the upstream limiter's state)
// and the embedded migrations that create them.
// Every query is written once in the SQL dialect that SQLite and PostgreSQL
// share and runs over a Conn, which is either a database/sql handle (SQLite)
// or a pgx handle (PostgreSQL). Times are stored as Unix milliseconds.
package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	// Dialect, when set, is the one database the migration runs on
	// (a file named NNN_name.postgres.sql): on the other it is recorded
	// as applied and does nothing, so versions stay alike on both.
	Dialect string
	SQL     string
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		var v int
		if _, err := fmt.Sscanf(e.Name(), "%03d_", &v); err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a 3-digit version", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		name, dialect := strings.TrimSuffix(e.Name(), ".sql"), ""
		for _, d := range []string{"postgres", "sqlite"} {
			if n, ok := strings.CutSuffix(name, "."+d); ok {
				name, dialect = n, d
			}
		}
		ms = append(ms, Migration{Version: v, Name: name, Dialect: dialect, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

// Migrate applies the migrations that c, a database of dialect ("sqlite"
// or "postgres"), has not seen yet. The caller runs it inside one
// transaction (and, on PostgreSQL, under an advisory lock), so that
// concurrent replicas starting together apply each migration once. It
// returns the names of the migrations it applied.
func Migrate(ctx context.Context, c Conn, dialect string) ([]string, error) {
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS netsmith_migration (
		version    BIGINT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create migration table: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range ms {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM netsmith_migration WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return applied, fmt.Errorf("check migration %s: %w", m.Name, err)
		}
		if n > 0 {
			continue
		}
		for _, stmt := range splitStatements(m.SQL) {
			if m.Dialect != "" && m.Dialect != dialect {
				break
			}
			if _, err := c.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
		}
		if _, err := c.Exec(ctx, `INSERT INTO netsmith_migration (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			return applied, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// splitStatements splits a migration on semicolons at line ends, but not
// inside a $$-quoted body (a PostgreSQL function's).
func splitStatements(sql string) []string {
	var out []string
	var parts []string
	for _, s := range strings.Split(sql, ";\n") {
		if n := len(parts); n > 0 && strings.Count(parts[n-1], "$$")%2 == 1 {
			parts[n-1] += ";\n" + s
			continue
		}
		parts = append(parts, s)
	}
	for _, s := range parts {
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMillis(ms *int64) time.Time {
	if ms == nil {
		return time.Time{}
	}
	return time.UnixMilli(*ms).UTC()
}
