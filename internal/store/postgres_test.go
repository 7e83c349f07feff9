package store

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPGOptions(t *testing.T) {
	for _, tt := range []struct {
		url, want, err string
		bouncer        bool
	}{
		{url: "postgres://u@h/db?sslmode=disable", want: "postgres://u@h/db?sslmode=disable"},
		{url: "postgres://u@h/db?pgbouncer=true&sslmode=disable", want: "postgres://u@h/db?sslmode=disable", bouncer: true},
		{url: "postgres://u@h/db?pgbouncer=0", want: "postgres://u@h/db"},
		{url: "postgres://u:secret@h/db?pgbouncer=yes", err: `pgbouncer="yes" must be true or false`},
		{url: "postgres://u@h/db?pgbouncer=true&pgbouncer=false", err: "pgbouncer is given 2 times"},
	} {
		got, o, err := parsePGURL(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("parsePGURL(%q) error %v; want one with %q and no password", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || o.PgBouncer != tt.bouncer {
			t.Errorf("parsePGURL(%q) = %q, %+v, %v; want %q, bouncer %t", tt.url, got, o, err, tt.want, tt.bouncer)
		}
	}
}

func TestPGPoolConfigPgBouncer(t *testing.T) {
	pc, err := pgPoolConfig("postgres://u@h/db", pgOptions{PgBouncer: true}, 8)
	if err != nil {
		t.Fatal(err)
	}
	cc := pc.ConnConfig
	if cc.DefaultQueryExecMode != pgx.QueryExecModeExec || cc.StatementCacheCapacity != 0 || cc.DescriptionCacheCapacity != 0 || pc.MaxConns != 8 {
		t.Errorf("pgbouncer pool: exec mode %v, statement cache %d, description cache %d, max conns %d; want exec, 0, 0, 8",
			cc.DefaultQueryExecMode, cc.StatementCacheCapacity, cc.DescriptionCacheCapacity, pc.MaxConns)
	}
	// A startup parameter would be refused by PgBouncer at every connect.
	_, err = pgPoolConfig("postgres://u@h/db?search_path=x", pgOptions{PgBouncer: true}, 8)
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("pgbouncer with search_path: error %v; want one naming search_path", err)
	}
	if _, err := pgPoolConfig("postgres://u@h/db?search_path=x", pgOptions{}, 8); err != nil {
		t.Errorf("direct with search_path: %v", err)
	}
	if _, err := pgPoolConfig("postgres://u@h/db?pool_max_conns=1", pgOptions{}, 8); err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
		t.Errorf("pool_max_conns=1: error %v; want one naming pool_max_conns", err)
	}
}
