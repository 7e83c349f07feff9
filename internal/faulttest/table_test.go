package faulttest_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// row is one line of the fault table: a case, on which database, the
// figures, and whether it held.
type row struct {
	Case, DB, Figures string
	Held              bool
}

var table struct {
	mu   sync.Mutex
	rows []row
}

// record adds a row to the table and fails t when the case did not hold.
func record(t *testing.T, name, db string, held bool, format string, args ...any) {
	t.Helper()
	r := row{Case: name, DB: db, Figures: fmt.Sprintf(format, args...), Held: held}
	table.mu.Lock()
	table.rows = append(table.rows, r)
	table.mu.Unlock()
	if !held {
		t.Errorf("%s (%s) did not hold: %s", name, db, r.Figures)
	}
}

// TestMain runs the suite and prints its table (also on failure), so that
// `go test -count=1 ./internal/faulttest` shows the figures; set
// NETSMITH_FAULTS=slow for the cases that start processes.
func TestMain(m *testing.M) {
	code := m.Run()
	table.mu.Lock()
	defer table.mu.Unlock()
	if len(table.rows) > 0 {
		var b strings.Builder
		b.WriteString("\n| case | database | figures | held |\n|---|---|---|---|\n")
		for _, r := range table.rows {
			held := "yes"
			if !r.Held {
				held = "NO"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Case, r.DB, r.Figures, held)
		}
		// stderr: go test shows it whether the package passed or not.
		fmt.Fprint(os.Stderr, b.String())
	}
	os.Exit(code)
}
