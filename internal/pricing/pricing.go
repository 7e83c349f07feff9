// Package pricing is netsmith's table of LLM prices: for each model, US
// dollars per million tokens of input, output, cache writes and cache reads,
// a discount for batch requests, and the dates from which each set of prices
// is in effect.
//
// Prices are data. The built-in table is prices.yaml, embedded in the binary
// (Default); Load lays a user's file in the same format over it. A model
// without a price is an error, never a cost of 0: Check reports every such
// model at start-up.
//
// Money is NanoUSD, an integer count of billionths of a dollar, so that sums
// are exact. Cost works in integer picodollars per token and rounds once, to
// the nearest nanodollar, so a cost depends only on the token counts and the
// prices as written.
package pricing

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// NanoUSD is an amount of money in billionths of a US dollar.
type NanoUSD int64

// USD returns n in dollars.
func (n NanoUSD) USD() float64 { return float64(n) / 1e9 }

// FromUSD returns f dollars rounded to the nearest nanodollar (halves away
// from zero). Amounts beyond the range of NanoUSD (about ±9.2 billion
// dollars) saturate; NaN gives 0.
func FromUSD(f float64) NanoUSD {
	v := math.Round(f * 1e9)
	switch {
	case math.IsNaN(v):
		return 0
	case v >= math.MaxInt64: // float64(MaxInt64) is 2^63, one past the range
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return NanoUSD(v)
}

// Usage counts the tokens of one request by how they are priced. Input
// excludes cached tokens, as Anthropic reports them.
type Usage struct {
	Input, Output, CacheWrite, CacheRead int64
}

// Price is one model's prices for one period.
type Price struct {
	From time.Time // midnight UTC of the first day the prices are in effect

	// USD per million tokens. CacheWrite is a 5-minute cache write.
	Input, Output, CacheWrite, CacheRead float64

	// BatchDiscount is the fraction taken off every price for batch
	// requests: 0.5 is half price.
	BatchDiscount float64
}

// ErrNoPrice is wrapped by the errors for a model that is not in a table and
// for a time before a model's first price.
var ErrNoPrice = errors.New("no price")

// Table maps model names and aliases to prices. It is immutable and safe for
// concurrent use.
type Table struct {
	byName map[string]*model // canonical names and aliases
}

type model struct {
	name    string
	aliases []string
	periods []period // increasing From
}

func (m *model) names() []string { return append([]string{m.name}, m.aliases...) }

type period struct {
	Price
	rate [4]int64 // picodollars per token: input, output, cache write, cache read
	keep int64    // millionths of the price paid in a batch: 1e6 minus the discount
}

const (
	ppm      = 1_000_000     // parts per million, the unit of period.keep
	fullKeep = int64(ppm)    // the whole price: no discount
	maxPrice = 1_000_000     // USD per MTok (a dollar a token); keeps rates far from overflow
	priceDP  = 6             // decimal places of a price, so that its picodollars per token are whole
	divisor  = ppm * 1_000   // picodollars × millionths paid ÷ divisor = nanodollars
	embedded = "prices.yaml" // the embedded file's name in errors
)

//go:embed prices.yaml
var defaultYAML []byte

var defaultTable = sync.OnceValue(func() *Table {
	t, err := Parse(embedded, defaultYAML)
	if err != nil {
		panic("pricing: embedded " + err.Error())
	}
	return t
})

// Default returns the built-in table, the embedded prices.yaml. It panics if
// that file does not parse, which a test rules out.
func Default() *Table { return defaultTable() }

// Load returns the built-in table with the file at path laid over it. An
// entry in the file for a model, named by its canonical name or any alias of
// the built-in entry, replaces that entry entirely (aliases included); other
// models are added. The file must be valid on its own (see Parse).
func Load(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	user, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return Default().with(user), nil
}

// with returns t with the models of o replacing those sharing a name with
// them, and added.
func (t *Table) with(o *Table) *Table {
	replaced := make(map[*model]bool)
	for n := range o.byName {
		if m, ok := t.byName[n]; ok {
			replaced[m] = true
		}
	}
	out := &Table{byName: make(map[string]*model, len(t.byName)+len(o.byName))}
	for n, m := range t.byName {
		if !replaced[m] {
			out.byName[n] = m
		}
	}
	for n, m := range o.byName {
		out.byName[n] = m
	}
	return out
}

// The YAML documents. Prices are pointers so that a missing one is an error
// rather than 0; Models and Prices stay nodes so that errors can name the
// model and period they are in.
type (
	fileDoc struct {
		Models []yaml.Node `yaml:"models"`
	}
	modelDoc struct {
		Model    string      `yaml:"model"`
		Aliases  []string    `yaml:"aliases"`
		Provider string      `yaml:"provider"`
		Prices   []yaml.Node `yaml:"prices"`
	}
	priceDoc struct {
		From          string   `yaml:"from"`
		Input         *float64 `yaml:"input"`
		Output        *float64 `yaml:"output"`
		CacheWrite    *float64 `yaml:"cache_write"`
		CacheRead     *float64 `yaml:"cache_read"`
		BatchDiscount float64  `yaml:"batch_discount"`
	}
)

// The keys of modelDoc and priceDoc. Node.Decode cannot reject unknown
// fields, so parseModel and parsePeriod check them against these.
var (
	modelFields = []string{"model", "aliases", "provider", "prices"}
	priceFields = []string{"from", "input", "output", "cache_write", "cache_read", "batch_discount"}
)

// Parse reads one price file on its own; name is used in errors. Unknown
// fields, missing or negative prices, a batch discount outside [0, 1), a
// name used twice (as a model or alias), periods out of order and a model
// without prices are errors, each naming the file, the model and the field.
func Parse(name string, data []byte) (*Table, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f fileDoc
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(f.Models) == 0 {
		return nil, fmt.Errorf("%s: models: none", name)
	}
	t := &Table{byName: make(map[string]*model)}
	for i := range f.Models {
		n := &f.Models[i]
		m, err := parseModel(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, modelLabel(n, i), err)
		}
		for _, id := range m.names() {
			if prev, ok := t.byName[id]; ok {
				if prev == m {
					return nil, fmt.Errorf("%s: model %q: aliases: %q is listed twice", name, m.name, id)
				}
				return nil, fmt.Errorf("%s: model %q: %q is already a name of model %q", name, m.name, id, prev.name)
			}
			t.byName[id] = m
		}
	}
	return t, nil
}

// modelLabel names the model at node n, index i, for an error.
func modelLabel(n *yaml.Node, i int) string {
	if v := mapValue(n, "model"); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
		return fmt.Sprintf("model %q", v.Value)
	}
	return fmt.Sprintf("models[%d]", i)
}

func parseModel(n *yaml.Node) (*model, error) {
	if err := checkFields(n, modelFields); err != nil {
		return nil, err
	}
	var d modelDoc
	if err := n.Decode(&d); err != nil {
		return nil, err
	}
	switch {
	case d.Model == "":
		return nil, errors.New("model: missing")
	case d.Provider == "":
		return nil, errors.New("provider: missing")
	case len(d.Prices) == 0:
		return nil, errors.New("prices: none")
	}
	if i := slices.Index(d.Aliases, ""); i >= 0 {
		return nil, fmt.Errorf("aliases[%d]: empty", i)
	}
	m := &model{name: d.Model, aliases: d.Aliases}
	for i := range d.Prices {
		p, err := parsePeriod(&d.Prices[i])
		if err != nil {
			return nil, fmt.Errorf("prices[%d]: %w", i, err)
		}
		if i > 0 && !p.From.After(m.periods[i-1].From) {
			return nil, fmt.Errorf("prices[%d]: from: %s is not after prices[%d]'s %s",
				i, p.From.Format(time.DateOnly), i-1, m.periods[i-1].From.Format(time.DateOnly))
		}
		m.periods = append(m.periods, p)
	}
	return m, nil
}

func parsePeriod(n *yaml.Node) (period, error) {
	if err := checkFields(n, priceFields); err != nil {
		return period{}, err
	}
	var d priceDoc
	if err := n.Decode(&d); err != nil {
		return period{}, err
	}
	var p period
	switch from, err := time.Parse(time.DateOnly, d.From); {
	case d.From == "":
		return period{}, errors.New("from: missing")
	case err != nil:
		return period{}, fmt.Errorf("from: not a date %q, want YYYY-MM-DD", d.From)
	default:
		p.From = from
	}
	for i, f := range []struct {
		name string
		v    *float64
		dst  *float64
	}{
		{"input", d.Input, &p.Input},
		{"output", d.Output, &p.Output},
		{"cache_write", d.CacheWrite, &p.CacheWrite},
		{"cache_read", d.CacheRead, &p.CacheRead},
	} {
		if f.v == nil {
			return period{}, fmt.Errorf("%s: missing", f.name)
		}
		if err := checkDecimal(*f.v, maxPrice); err != nil {
			return period{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = *f.v
		p.rate[i] = int64(math.Round(*f.v * ppm))
	}
	bd := d.BatchDiscount
	if !(bd >= 0 && bd < 1) { // NaN too
		return period{}, fmt.Errorf("batch_discount: %v is not in [0, 1)", bd)
	}
	if err := checkDecimal(bd, 1); err != nil {
		return period{}, fmt.Errorf("batch_discount: %w", err)
	}
	p.BatchDiscount = bd
	p.keep = ppm - int64(math.Round(bd*ppm))
	return p, nil
}

// checkDecimal reports an error unless f is in [0, limit] with at most
// priceDP decimal places, so that f × 1e6 is a whole number.
func checkDecimal(f, limit float64) error {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return fmt.Errorf("%v is not a number", f)
	case f < 0:
		return fmt.Errorf("%v is negative", f)
	case f > limit:
		return fmt.Errorf("%v is more than %v", f, limit)
	}
	// The shortest decimal that reads back as f is what the file said,
	// for any number written with up to 15 significant digits.
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > priceDP {
		return fmt.Errorf("%s has more than %d decimal places", s, priceDP)
	}
	return nil
}

// checkFields reports the first key of mapping n not in known.
func checkFields(n *yaml.Node, known []string) error {
	if n.Kind != yaml.MappingNode {
		return nil // Decode reports the type
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(known, k.Value) {
			return fmt.Errorf("%s: unknown field (line %d)", k.Value, k.Line)
		}
	}
	return nil
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Check reports, in one error, every one of models that has no price in t.
// It is meant for start-up, before any request is made.
func (t *Table) Check(models ...string) error {
	var missing []string
	for _, m := range models {
		q := strconv.Quote(m)
		if _, ok := t.byName[m]; !ok && !slices.Contains(missing, q) {
			missing = append(missing, q)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w for model %s (known: %s); add it to a --prices file",
			ErrNoPrice, missing[0], strings.Join(t.Models(), ", "))
	default:
		return fmt.Errorf("%w for models %s (known: %s); add them to a --prices file",
			ErrNoPrice, strings.Join(missing, ", "), strings.Join(t.Models(), ", "))
	}
}

// Lookup returns the prices of model, a canonical name or an alias matched
// exactly, in effect at time at: those of the latest period starting at or
// before at. An unknown model or a time before the model's first period is
// an error wrapping ErrNoPrice.
func (t *Table) Lookup(model string, at time.Time) (Price, error) {
	p, err := t.period(model, at)
	if err != nil {
		return Price{}, err
	}
	return p.Price, nil
}

func (t *Table) period(name string, at time.Time) (*period, error) {
	m, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w for model %q", ErrNoPrice, name)
	}
	i := len(m.periods) - 1
	for i >= 0 && m.periods[i].From.After(at) {
		i--
	}
	if i < 0 {
		return nil, fmt.Errorf("%w for model %q at %s: its prices start %s",
			ErrNoPrice, name, at.UTC().Format(time.RFC3339), m.periods[0].From.Format(time.DateOnly))
	}
	return &m.periods[i], nil
}

// Cost returns what u costs with model at time at, rounded to the nearest
// nanodollar: each token count times its price, less the batch discount on
// all four if batch is set. The result is exact: prices are whole
// picodollars per token, and the sum is rounded once.
func (t *Table) Cost(model string, at time.Time, u Usage, batch bool) (NanoUSD, error) {
	p, err := t.period(model, at)
	if err != nil {
		return 0, err
	}
	keep := fullKeep
	if batch {
		keep = p.keep
	}
	return p.cost(u, keep)
}

// Estimate returns an upper bound on the cost of a request to model at time
// at, for reserving budget: inputTokens at the input price plus
// maxOutputTokens at the output price, with no batch discount and no cache.
func (t *Table) Estimate(model string, at time.Time, inputTokens, maxOutputTokens int64) (NanoUSD, error) {
	p, err := t.period(model, at)
	if err != nil {
		return 0, err
	}
	return p.cost(Usage{Input: inputTokens, Output: maxOutputTokens}, fullKeep)
}

// cost returns u at p's rates times keep millionths, in nanodollars rounded
// half up.
func (p *period) cost(u Usage, keep int64) (NanoUSD, error) {
	var pico int64
	for i, n := range [4]int64{u.Input, u.Output, u.CacheWrite, u.CacheRead} {
		r := p.rate[i]
		switch {
		case n < 0:
			return 0, fmt.Errorf("cost of usage %+v: negative token count", u)
		case n > 0 && r > (math.MaxInt64-pico)/n:
			return 0, fmt.Errorf("cost of usage %+v: too large", u)
		}
		pico += n * r
	}
	// pico < 2^63 and keep <= 2^20, so hi < 2^19 < divisor as Div64
	// requires, and the quotient is below 2^54.
	hi, lo := bits.Mul64(uint64(pico), uint64(keep))
	q, rem := bits.Div64(hi, lo, divisor)
	if 2*rem >= divisor {
		q++
	}
	return NanoUSD(q), nil
}

// Models returns the canonical names of the models in t, sorted.
func (t *Table) Models() []string {
	var names []string
	for n, m := range t.byName {
		if n == m.name {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
