package queue

import (
	"context"
	"errors"
	"fmt"
	"netsmith/internal/netcfg"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestUnavailable: outages of the database or its disk are told apart from
// bad queries and bad input, which stay 4xx/500 material.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"disk full", &pgconn.PgError{Code: "53100"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"admin shutdown", fmt.Errorf("claim: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"read-only transaction", &pgconn.PgError{Code: "25006"}, true},
		{"I/O error", &pgconn.PgError{Code: "58030"}, true},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"no space", fmt.Errorf("write: %w", syscall.ENOSPC), true},
		{"invalid byte sequence", &pgconn.PgError{Code: "22021"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"not found", netcfg.ErrNotFound, false},
		{"client left", context.Canceled, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
