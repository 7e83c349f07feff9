package pricing

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// now is a time at which every built-in model has a price.
var now = date("2026-01-15T12:00:00Z")

func parse(t testing.TB, yml string) *Table {
	t.Helper()
	tab, err := Parse("test.yaml", []byte(yml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tab
}

func writeFile(t testing.TB, yml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "user.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefault(t *testing.T) {
	t.Parallel()
	d := Default()
	if d != Default() {
		t.Error("Default() returned a different table on the second call")
	}
	want := []string{
		"claude-3-5-haiku-latest",
		"claude-3-7-sonnet-latest",
		"claude-3-haiku-20240307",
		"claude-haiku-4-5",
		"claude-opus-4-0",
		"claude-opus-4-1",
		"claude-opus-4-5",
		"claude-sonnet-4-0",
		"claude-sonnet-4-5",
		"sim-1",
	}
	if diff := cmp.Diff(want, d.Models()); diff != "" {
		t.Errorf("Models() (-want +got):\n%s", diff)
	}
	for _, m := range d.Models() {
		p, err := d.Lookup(m, now)
		if err != nil {
			t.Errorf("Lookup(%q): %v", m, err)
			continue
		}
		if m == "sim-1" {
			if diff := cmp.Diff(Price{From: p.From}, p); diff != "" {
				t.Errorf("sim-1 is not free (-want +got):\n%s", diff)
			}
			continue
		}
		if p.Input <= 0 || p.Output <= p.Input || p.CacheRead <= 0 || p.CacheWrite <= p.Input {
			t.Errorf("Lookup(%q) = %+v, want 0 < input < output, 0 < cache_read, input < cache_write", m, p)
		}
		if p.BatchDiscount != 0.5 {
			t.Errorf("Lookup(%q).BatchDiscount = %v, want 0.5", m, p.BatchDiscount)
		}
	}
}

func TestDefaultPrices(t *testing.T) {
	t.Parallel()
	// Each alias gives the same prices as its model, and the prices are
	// the list prices in the brief.
	tests := []struct {
		model, alias              string
		in, out, write, read, bat float64
	}{
		{"claude-opus-4-5", "claude-opus-4-5-20251101", 5, 25, 6.25, 0.50, 0.5},
		{"claude-opus-4-1", "claude-opus-4-1-20250805", 15, 75, 18.75, 1.50, 0.5},
		{"claude-opus-4-0", "claude-opus-4-20250514", 15, 75, 18.75, 1.50, 0.5},
		{"claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 3, 15, 3.75, 0.30, 0.5},
		{"claude-sonnet-4-0", "claude-sonnet-4-20250514", 3, 15, 3.75, 0.30, 0.5},
		{"claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219", 3, 15, 3.75, 0.30, 0.5},
		{"claude-haiku-4-5", "claude-haiku-4-5-20251001", 1, 5, 1.25, 0.10, 0.5},
		{"claude-3-5-haiku-latest", "claude-3-5-haiku-20241022", 0.80, 4, 1, 0.08, 0.5},
		{"claude-3-haiku-20240307", "claude-3-haiku-20240307", 0.25, 1.25, 0.30, 0.03, 0.5},
		{"sim-1", "sim-1", 0, 0, 0, 0, 0},
	}
	d := Default()
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			t.Parallel()
			got, err := d.Lookup(tt.model, now)
			if err != nil {
				t.Fatal(err)
			}
			want := Price{From: got.From, Input: tt.in, Output: tt.out, CacheWrite: tt.write, CacheRead: tt.read, BatchDiscount: tt.bat}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Lookup(%q) (-want +got):\n%s", tt.model, diff)
			}
			byAlias, err := d.Lookup(tt.alias, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, byAlias); diff != "" {
				t.Errorf("Lookup(%q) differs from Lookup(%q) (-model +alias):\n%s", tt.alias, tt.model, diff)
			}
		})
	}
}

func TestSonnetFrom(t *testing.T) {
	t.Parallel()
	p, err := Default().Lookup("claude-sonnet-4-5", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := date("2025-09-29T00:00:00Z"); !p.From.Equal(want) || p.From.Location() != time.UTC {
		t.Errorf("From = %v, want %v", p.From, want)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model string
		u     Usage
		batch bool
		want  NanoUSD
	}{
		// 1M input at $3 + 100K output at $15 = $3 + $1.50.
		{"sonnet", "claude-sonnet-4-5", Usage{Input: 1_000_000, Output: 100_000}, false, 4_500_000_000},
		{"sonnet batch", "claude-sonnet-4-5", Usage{Input: 1_000_000, Output: 100_000}, true, 2_250_000_000},
		{"by alias", "claude-sonnet-4-5-20250929", Usage{Input: 1_000_000, Output: 100_000}, false, 4_500_000_000},
		{"cache write", "claude-sonnet-4-5", Usage{CacheWrite: 1_000_000}, false, 3_750_000_000},
		{"cache read", "claude-sonnet-4-5", Usage{CacheRead: 1_000_000}, false, 300_000_000},
		// 2000×5 + 300×25 + 4000×6.25 + 50000×0.5 µ$ = 10000+7500+25000+25000 = 67500 µ$.
		{"all four", "claude-opus-4-5", Usage{Input: 2000, Output: 300, CacheWrite: 4000, CacheRead: 50_000}, false, 67_500_000},
		{"all four batch", "claude-opus-4-5", Usage{Input: 2000, Output: 300, CacheWrite: 4000, CacheRead: 50_000}, true, 33_750_000},
		// 123456789 × 0.30 $/MTok = 37.0370367 $, exactly.
		{"no float drift", "claude-haiku-4-5", Usage{CacheRead: 123_456_789}, false, 12_345_678_900},
		{"no float drift 2", "claude-sonnet-4-5", Usage{CacheRead: 123_456_789}, false, 37_037_036_700},
		{"sim", "sim-1", Usage{Input: 1e9, Output: 1e9, CacheWrite: 1e9, CacheRead: 1e9}, false, 0},
		{"zero", "claude-opus-4-1", Usage{}, true, 0},
	}
	d := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.Cost(tt.model, now, tt.u, tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Cost(%q, %+v, batch=%v) = %d, want %d", tt.model, tt.u, tt.batch, got, tt.want)
			}
		})
	}
}

func TestCostBatchDiscount(t *testing.T) {
	t.Parallel()
	tab := parse(t, `
models:
  - model: m
    provider: p
    prices:
      - from: 2025-01-01
        input: 2
        output: 10
        cache_write: 2.5
        cache_read: 0.2
        batch_discount: 0.25
`)
	u := Usage{Input: 1000, Output: 1000, CacheWrite: 1000, CacheRead: 1000}
	// 1000 tokens of each at 14.7 $/MTok in all = $0.0147; less a quarter,
	// $0.011025.
	for _, tt := range []struct {
		batch bool
		want  NanoUSD
	}{{false, 14_700_000}, {true, 11_025_000}} {
		got, err := tab.Cost("m", now, u, tt.batch)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Cost(batch=%v) = %d, want %d", tt.batch, got, tt.want)
		}
	}
}

func TestCostRounding(t *testing.T) {
	t.Parallel()
	// Prices below $0.001/MTok are fractions of a nanodollar a token.
	tab := parse(t, `
models:
  - model: m
    provider: p
    prices:
      - from: 2025-01-01
        input: 0.00025     # 0.25 n$ a token
        output: 0.0005     # 0.5 n$
        cache_write: 0.000001
        cache_read: 0.00027
        batch_discount: 0.5
`)
	tests := []struct {
		name  string
		u     Usage
		batch bool
		want  NanoUSD
	}{
		{"quarter", Usage{Input: 1}, false, 0},
		{"half rounds up", Usage{Input: 2}, false, 1},
		{"three quarters", Usage{Input: 3}, false, 1},
		{"one and a half", Usage{Output: 3}, false, 2},
		{"just under half", Usage{CacheWrite: 499}, false, 0},
		{"exactly half", Usage{CacheWrite: 500}, false, 1},
		// 0.25 + 0.27: each part rounds to 0, the sum to 1.
		{"rounded once", Usage{Input: 1, CacheRead: 1}, false, 1},
		{"batch quarter", Usage{Output: 1}, true, 0},
		{"batch three quarters", Usage{Output: 3}, true, 1},
		{"batch half", Usage{Output: 2}, true, 1},
	}
	for _, tt := range tests {
		got, err := tab.Cost("m", now, tt.u, tt.batch)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: Cost(%+v, batch=%v) = %d, want %d", tt.name, tt.u, tt.batch, got, tt.want)
		}
	}
}

func TestCostErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model string
		at    time.Time
		u     Usage
		want  string
		noPri bool
	}{
		{"unknown", "gpt-9", now, Usage{Input: 1}, `no price for model "gpt-9"`, true},
		{"dated form not listed", "claude-sonnet-4-5-20260101", now, Usage{Input: 1}, `no price for model "claude-sonnet-4-5-20260101"`, true},
		{"case differs", "Claude-Sonnet-4-5", now, Usage{Input: 1}, `no price for model "Claude-Sonnet-4-5"`, true},
		{"before release", "claude-sonnet-4-5", date("2025-09-28T23:59:59Z"), Usage{Input: 1},
			`no price for model "claude-sonnet-4-5" at 2025-09-28T23:59:59Z: its prices start 2025-09-29`, true},
		{"negative", "claude-sonnet-4-5", now, Usage{Output: -1}, "negative token count", false},
		{"overflow", "claude-opus-4-1", now, Usage{Output: math.MaxInt64 / 1000}, "too large", false},
		{"sum overflow", "claude-opus-4-1", now, Usage{Output: math.MaxInt64 / 75_000_000, Input: math.MaxInt64 / 15_000_000}, "too large", false},
	}
	d := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := d.Cost(tt.model, tt.at, tt.u, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Cost: error %v, want one containing %q", err, tt.want)
			}
			if got := errors.Is(err, ErrNoPrice); got != tt.noPri {
				t.Errorf("errors.Is(%v, ErrNoPrice) = %v, want %v", err, got, tt.noPri)
			}
		})
	}
}

func TestCostLargest(t *testing.T) {
	t.Parallel()
	// The largest usage that fits: just under 2^63 picodollars, whose
	// nanodollars need the 128-bit product to come out right.
	d := Default()
	n := int64(math.MaxInt64 / 75_000_000) // opus-4-1 output: 75e6 p$ a token
	got, err := d.Cost("claude-opus-4-1", now, Usage{Output: n}, true)
	if err != nil {
		t.Fatal(err)
	}
	pico := n * 75_000_000
	if want := NanoUSD((pico/2 + 500) / 1000); got != want {
		t.Errorf("Cost = %d, want %d", got, want)
	}
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	d := Default()
	tests := []struct {
		model   string
		in, out int64
		want    NanoUSD
	}{
		// 10000 × 3 + 4096 × 15 µ$ = 30000 + 61440.
		{"claude-sonnet-4-5", 10_000, 4096, 91_440_000},
		{"claude-opus-4-5-20251101", 1_000_000, 1_000_000, 30_000_000_000},
		{"sim-1", 1_000_000, 1_000_000, 0},
	}
	for _, tt := range tests {
		got, err := d.Estimate(tt.model, now, tt.in, tt.out)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Estimate(%q, %d, %d) = %d, want %d", tt.model, tt.in, tt.out, got, tt.want)
		}
		// No batch discount, no cache: the same as the plain cost.
		cost, err := d.Cost(tt.model, now, Usage{Input: tt.in, Output: tt.out}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got != cost {
			t.Errorf("Estimate(%q) = %d, Cost = %d", tt.model, got, cost)
		}
	}
	if _, err := d.Estimate("nope", now, 1, 1); !errors.Is(err, ErrNoPrice) {
		t.Errorf("Estimate(unknown): error %v, want ErrNoPrice", err)
	}
}

func TestEffectiveFrom(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `
models:
  - model: house-model
    aliases: [house]
    provider: local
    prices:
      - from: 2025-01-01
        input: 1
        output: 2
        cache_write: 0
        cache_read: 0
      - from: 2025-06-01
        input: 4
        output: 8
        cache_write: 0
        cache_read: 0
        batch_discount: 0.5
`)
	tab, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	u := Usage{Input: 1_000_000, Output: 1_000_000}
	tests := []struct {
		at    string
		input float64
		cost  NanoUSD
	}{
		{"2025-01-01T00:00:00Z", 1, 3_000_000_000},
		{"2025-05-31T23:59:59.999999999Z", 1, 3_000_000_000},
		{"2025-06-01T01:59:59+02:00", 1, 3_000_000_000}, // 23:59:59 UTC the day before
		{"2025-06-01T00:00:00Z", 4, 12_000_000_000},
		{"2025-06-01T02:00:00+02:00", 4, 12_000_000_000},
		{"2031-01-01T00:00:00Z", 4, 12_000_000_000},
	}
	for _, tt := range tests {
		at := date(tt.at)
		p, err := tab.Lookup("house", at)
		if err != nil {
			t.Fatalf("Lookup at %s: %v", tt.at, err)
		}
		if p.Input != tt.input {
			t.Errorf("Lookup at %s: input %v, want %v", tt.at, p.Input, tt.input)
		}
		got, err := tab.Cost("house-model", at, u, false)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.cost {
			t.Errorf("Cost at %s = %d, want %d", tt.at, got, tt.cost)
		}
	}
	_, err = tab.Lookup("house", date("2024-12-31T23:59:59Z"))
	if want := `no price for model "house" at 2024-12-31T23:59:59Z: its prices start 2025-01-01`; err == nil || err.Error() != want {
		t.Errorf("Lookup before the first period: error %v, want %q", err, want)
	}
	if !errors.Is(err, ErrNoPrice) {
		t.Errorf("Lookup before the first period: error %v is not ErrNoPrice", err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `
# Negotiated prices.
models:
  - model: claude-sonnet-4-5        # replaces the built-in entry, aliases and all
    aliases: [sonnet]
    provider: anthropic
    prices:
      - from: 2025-09-29
        input: 2.5
        output: 12.5
        cache_write: 3
        cache_read: 0.25
  - model: claude-opus-4-1-20250805 # an alias of a built-in model: replaces it too
    provider: anthropic
    prices:
      - from: 2025-08-05
        input: 10
        output: 50
        cache_write: 12.5
        cache_read: 1
        batch_discount: 0.4
  - model: local-llama
    provider: openai
    prices:
      - from: 2024-01-01
        input: 0.1
        output: 0.2
        cache_write: 0
        cache_read: 0
`)
	tab, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	wantModels := []string{
		"claude-3-5-haiku-latest",
		"claude-3-7-sonnet-latest",
		"claude-3-haiku-20240307",
		"claude-haiku-4-5",
		"claude-opus-4-0",
		"claude-opus-4-1-20250805",
		"claude-opus-4-5",
		"claude-sonnet-4-0",
		"claude-sonnet-4-5",
		"local-llama",
		"sim-1",
	}
	if diff := cmp.Diff(wantModels, tab.Models()); diff != "" {
		t.Errorf("Models() (-want +got):\n%s", diff)
	}

	tests := []struct {
		model string
		want  NanoUSD // for 1M input + 1M output, batch
		err   bool
	}{
		{"claude-sonnet-4-5", 15_000_000_000, false}, // no batch_discount in the user's entry
		{"sonnet", 15_000_000_000, false},
		{"claude-sonnet-4-5-20250929", 0, true}, // the built-in alias went with the entry
		{"claude-opus-4-1-20250805", 36_000_000_000, false},
		{"claude-opus-4-1", 0, true},
		{"local-llama", 300_000_000, false},
		{"claude-haiku-4-5", 3_000_000_000, false}, // untouched
		{"claude-haiku-4-5-20251001", 3_000_000_000, false},
	}
	for _, tt := range tests {
		got, err := tab.Cost(tt.model, now, Usage{Input: 1_000_000, Output: 1_000_000}, true)
		switch {
		case tt.err && !errors.Is(err, ErrNoPrice):
			t.Errorf("Cost(%q): error %v, want ErrNoPrice", tt.model, err)
		case !tt.err && err != nil:
			t.Errorf("Cost(%q): %v", tt.model, err)
		case got != tt.want:
			t.Errorf("Cost(%q) = %d, want %d", tt.model, got, tt.want)
		}
	}

	// The built-in table is not changed by loading.
	if p, err := Default().Lookup("claude-sonnet-4-5-20250929", now); err != nil || p.Input != 3 {
		t.Errorf("Default().Lookup(claude-sonnet-4-5-20250929) = %+v, %v after Load, want input 3", p, err)
	}
	if got := len(Default().Models()); got != 10 {
		t.Errorf("Default() has %d models after Load, want 10", got)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := Load(missing); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing file): error %v, want not-exist naming the path", err)
	}
	path := writeFile(t, "models:\n  - model: x\n    provider: p\n    prices:\n      - from: 2025-01-01\n        input: -1\n")
	_, err := Load(path)
	if want := path + `: model "x": prices[0]: input: -1 is negative`; err == nil || err.Error() != want {
		t.Errorf("Load(bad file): error %v, want %q", err, want)
	}
}

// good is a valid period; tests append or change fields.
const good = `
        input: 1
        output: 2
        cache_write: 1.25
        cache_read: 0.1`

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yml  string
		want string // the whole message, or a prefix ending in "…"
	}{
		{"bad date", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
      - from: 2025-13-01` + good,
			`user.yaml: model "x": prices[1]: from: not a date "2025-13-01", want YYYY-MM-DD`},
		{"date with time", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01T00:00:00Z` + good,
			`user.yaml: model "x": prices[0]: from: not a date "2025-01-01T00:00:00Z", want YYYY-MM-DD`},
		{"no from", `
models:
  - model: x
    provider: p
    prices:
      - input: 1`,
			`user.yaml: model "x": prices[0]: from: missing`},
		{"negative price", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: 1
        output: -2
        cache_write: 1.25
        cache_read: 0.1`,
			`user.yaml: model "x": prices[0]: output: -2 is negative`},
		{"NaN price", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: .nan
        output: 2
        cache_write: 1.25
        cache_read: 0.1`,
			`user.yaml: model "x": prices[0]: input: NaN is not a number`},
		{"huge price", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: 1e7
        output: 2
        cache_write: 1.25
        cache_read: 0.1`,
			`user.yaml: model "x": prices[0]: input: 1e+07 is more than 1e+06`},
		{"too precise", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: 1
        output: 2
        cache_write: 1.25
        cache_read: 0.0000001`,
			`user.yaml: model "x": prices[0]: cache_read: 0.0000001 has more than 6 decimal places`},
		{"missing price", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: 1
        output: 2
        cache_read: 0.1`,
			`user.yaml: model "x": prices[0]: cache_write: missing`},
		{"price not a number", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01
        input: three`,
			`user.yaml: model "x": prices[0]: yaml: unmarshal errors:…`},
		{"batch discount 1", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
        batch_discount: 1`,
			`user.yaml: model "x": prices[0]: batch_discount: 1 is not in [0, 1)`},
		{"batch discount negative", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
        batch_discount: -0.5`,
			`user.yaml: model "x": prices[0]: batch_discount: -0.5 is not in [0, 1)`},
		{"batch discount precise", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
        batch_discount: 0.33333333`,
			`user.yaml: model "x": prices[0]: batch_discount: 0.33333333 has more than 6 decimal places`},
		{"duplicate model", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
  - model: x
    provider: q
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": "x" is already a name of model "x"`},
		{"alias names another model", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
  - model: y
    aliases: [y1, x]
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "y": "x" is already a name of model "x"`},
		{"model is another's alias", `
models:
  - model: x
    aliases: [x1]
    provider: p
    prices:
      - from: 2025-01-01` + good + `
  - model: x1
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x1": "x1" is already a name of model "x"`},
		{"alias twice", `
models:
  - model: x
    aliases: [x1, x1]
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": aliases: "x1" is listed twice`},
		{"alias is own name", `
models:
  - model: x
    aliases: [x]
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": aliases: "x" is listed twice`},
		{"empty alias", `
models:
  - model: x
    aliases: [x1, ""]
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": aliases[1]: empty`},
		{"periods out of order", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-06-01` + good + `
      - from: 2025-01-01` + good,
			`user.yaml: model "x": prices[1]: from: 2025-01-01 is not after prices[0]'s 2025-06-01`},
		{"periods same date", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-06-01` + good + `
      - from: 2025-07-01` + good + `
      - from: 2025-07-01` + good,
			`user.yaml: model "x": prices[2]: from: 2025-07-01 is not after prices[1]'s 2025-07-01`},
		{"no prices", `
models:
  - model: x
    provider: p`,
			`user.yaml: model "x": prices: none`},
		{"empty prices", `
models:
  - model: x
    provider: p
    prices: []`,
			`user.yaml: model "x": prices: none`},
		{"unknown price field", `
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good + `
        cache_write_1h: 2`,
			`user.yaml: model "x": prices[0]: cache_write_1h: unknown field (line 11)`},
		{"unknown model field", `
models:
  - model: x
    alias: [x1]
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": alias: unknown field (line 4)`},
		{"unknown top-level field", `
version: 1
models:
  - model: x
    provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: yaml: unmarshal errors:…`},
		{"no model name", `
models:
  - provider: p
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: models[0]: model: missing`},
		{"no provider", `
models:
  - model: x
    prices:
      - from: 2025-01-01` + good,
			`user.yaml: model "x": provider: missing`},
		{"empty", "# nothing\n", `user.yaml: models: none`},
		{"no models", "models: []\n", `user.yaml: models: none`},
		{"not yaml", "models: [\n", `user.yaml: yaml: …`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("user.yaml", []byte(tt.yml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error %q, want one starting %q", got, prefix)
				}
				return
			}
			if got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldLists(t *testing.T) {
	t.Parallel()
	tags := func(v any) []string {
		var out []string
		for f := range reflect.TypeOf(v).Fields() {
			out = append(out, f.Tag.Get("yaml"))
		}
		return out
	}
	if diff := cmp.Diff(tags(modelDoc{}), modelFields); diff != "" {
		t.Errorf("modelFields differ from modelDoc's tags (-tags +list):\n%s", diff)
	}
	if diff := cmp.Diff(tags(priceDoc{}), priceFields); diff != "" {
		t.Errorf("priceFields differ from priceDoc's tags (-tags +list):\n%s", diff)
	}
}

func TestParseUnknownTopLevelNamesField(t *testing.T) {
	t.Parallel()
	_, err := Parse("user.yaml", []byte("modelz: []\n"))
	if err == nil || !strings.Contains(err.Error(), "modelz") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("error %v, want one naming field modelz and line 1", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	d := Default()
	known := strings.Join(d.Models(), ", ")
	tests := []struct {
		name   string
		models []string
		want   string // "" for no error
	}{
		{"none", nil, ""},
		{"all known", []string{"claude-sonnet-4-5", "claude-haiku-4-5-20251001", "sim-1"}, ""},
		{"one unknown", []string{"claude-sonnet-4-5", "foo"},
			`no price for model "foo" (known: ` + known + `); add it to a --prices file`},
		{"several unknown", []string{"foo", "claude-haiku-4-5", "claude-sonnet-4-5-20260101", "foo", ""},
			`no price for models "foo", "claude-sonnet-4-5-20260101", "" (known: ` + known + `); add them to a --prices file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.Check(tt.models...)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.models, err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check(%q) = %v\nwant %s", tt.models, err, tt.want)
			}
			if !errors.Is(err, ErrNoPrice) {
				t.Errorf("Check(%q) = %v, not ErrNoPrice", tt.models, err)
			}
		})
	}
	if !strings.HasPrefix(known, "claude-3-5-haiku-latest, claude-3-7-sonnet-latest, ") {
		t.Errorf("known models %q are not sorted canonical names", known)
	}
}

func TestFromUSD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		usd  float64
		want NanoUSD
	}{
		{0, 0},
		{4.5, 4_500_000_000},
		{0.1, 100_000_000},
		{0.3, 300_000_000},
		{1e-9, 1},
		{4e-10, 0},
		{6e-10, 1},
		{-1.25, -1_250_000_000},
		{123.456789123, 123_456_789_123},
		{math.NaN(), 0},
		{math.Inf(1), math.MaxInt64},
		{math.Inf(-1), math.MinInt64},
		{1e10, math.MaxInt64},
		{-1e10, math.MinInt64},
	}
	for _, tt := range tests {
		if got := FromUSD(tt.usd); got != tt.want {
			t.Errorf("FromUSD(%v) = %d, want %d", tt.usd, got, tt.want)
		}
	}
}

func TestUSDRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []NanoUSD{0, 1, -1, 999_999_999, 4_500_000_000, 2_250_000_001, 123_456_789_012_345, -987_654_321_987} {
		if got := FromUSD(n.USD()); got != n {
			t.Errorf("FromUSD(%d.USD() = %v) = %d", n, n.USD(), got)
		}
	}
	for _, f := range []float64{4.5, 0.000000001, 0.1, 123.456789, -0.3, 1234.5} {
		if got := FromUSD(f).USD(); got != f {
			t.Errorf("FromUSD(%v).USD() = %v", f, got)
		}
	}
	if got := NanoUSD(4_500_000_000).USD(); got != 4.5 {
		t.Errorf("USD() = %v, want 4.5", got)
	}
}
