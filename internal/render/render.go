// Package render executes Go text/templates written by a language model.
// Such templates are untrusted input (docs/design.md §8), so the package accepts
// only a checked subset of text/template and bounds every render.
//
// Parse refuses, naming the line: the call builtin, html/js/urlquery,
// {{template}}, {{define}} and {{block}} (so nothing can recurse), ranging
// over a literal (a number, string, bool or nil), printf formats with '*' or
// a width or precision over 256, control structures nested deeper than
// Limits.MaxDepth, templates over Limits.MaxTemplate, and any function that
// is not in Funcs. The allowed functions are pure: none reads files, the
// environment, the clock or the network, and text/template itself has no
// such access.
//
// Render bounds what is left. Every range is rewritten to pass its
// collection through a guard (range_limit) that refuses anything but a list
// or map, and counts elements against Limits.MaxRangeLen and
// Limits.MaxIterations; every range body starts with a tick (range_tick)
// that checks the deadline on each iteration. Functions charge the bytes
// they build against Limits.MaxFuncBytes, and output goes through a writer
// that fails past Limits.MaxOutput. The guard, the tick, the functions and
// the writer check the deadline: the context's or Limits.Timeout from the
// start of the render, whichever is earlier. text/template cannot be
// interrupted, but with no recursion, no unmetered loop and no unmetered
// allocation, the work between two checks is bounded by the template's size
// (and the variables' size, Limits.MaxVars), so a render stops soon after a
// limit is hit.
//
// Variables must be JSON-like (strings, numbers, bools, nil, slices and
// string-keyed maps of those), which also rules out method calls on values.
//
// Verify and Synthesize prove that a template is a template: rendered with
// two variable sets that differ in every value, only lines that show a
// variable may differ, and no value of one set may appear in the render of
// the other.
package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
)

// Limits bound parsing and rendering. A zero field takes its default.
type Limits struct {
	MaxTemplate   int           // bytes of template text; default 256 KiB
	MaxVars       int           // size of the variables (string bytes + 8 per value); default 1 MiB
	MaxDepth      int           // nesting of if/with/range; default 16
	MaxOutput     int           // bytes of output per render; default 1 MiB
	MaxRangeLen   int           // elements of one ranged collection; default 10,000
	MaxIterations int           // range iterations per render, all ranges together; default 200,000
	MaxFuncBytes  int           // bytes built by function calls per render; default 4 MiB
	Timeout       time.Duration // per render when the context has no earlier deadline; default 2 s
}

// DefaultLimits returns the limits Parse uses.
func DefaultLimits() Limits {
	return Limits{
		MaxTemplate:   256 << 10,
		MaxVars:       1 << 20,
		MaxDepth:      16,
		MaxOutput:     1 << 20,
		MaxRangeLen:   10_000,
		MaxIterations: 200_000,
		MaxFuncBytes:  4 << 20,
		Timeout:       2 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTemplate <= 0 {
		l.MaxTemplate = d.MaxTemplate
	}
	if l.MaxVars <= 0 {
		l.MaxVars = d.MaxVars
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.MaxRangeLen <= 0 {
		l.MaxRangeLen = d.MaxRangeLen
	}
	if l.MaxIterations <= 0 {
		l.MaxIterations = d.MaxIterations
	}
	if l.MaxFuncBytes <= 0 {
		l.MaxFuncBytes = d.MaxFuncBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Errors a render can stop with; check them with errors.Is.
var (
	ErrOutputLimit    = errors.New("output limit exceeded")
	ErrIterationLimit = errors.New("iteration limit exceeded")
	ErrTimeLimit      = errors.New("render time limit exceeded")
)

// ParseError is a template that Parse refuses. Line is 1-based, 0 when the
// problem has no line.
type ParseError struct {
	Name string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("template %s line %d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("template %s: %s", e.Name, e.Msg)
}

// Template is a parsed and checked template. It is safe for concurrent use.
type Template struct {
	name   string
	text   string
	limits Limits
	vars   []string
	base   *template.Template // checked and rewritten; never executed itself
	pool   sync.Pool          // of *instance
}

// instance is a clone of base with functions bound to its own render state,
// so that renders of one Template can run concurrently.
type instance struct {
	tmpl *template.Template
	st   *state
}

// Parse parses and checks text with DefaultLimits.
func Parse(name, text string) (*Template, error) {
	return ParseLimits(name, text, Limits{})
}

// ParseLimits parses and checks text with the given limits.
func ParseLimits(name, text string, lim Limits) (*Template, error) {
	lim = lim.withDefaults()
	if len(text) > lim.MaxTemplate {
		return nil, &ParseError{Name: name, Msg: fmt.Sprintf("template is %d bytes, more than the limit of %d", len(text), lim.MaxTemplate)}
	}
	if line, what, ok := findDefine(text); ok {
		return nil, &ParseError{Name: name, Line: line, Msg: fmt.Sprintf("{{%s}} is not allowed (one template, no sub-templates)", what)}
	}
	base, err := template.New(name).Option("missingkey=error").Funcs(funcMap(newState(lim))).Parse(text)
	if err != nil {
		return nil, parseError(name, err)
	}
	if ts := base.Templates(); len(ts) > 1 {
		return nil, &ParseError{Name: name, Msg: "{{define}} and {{block}} are not allowed (one template, no sub-templates)"}
	}
	if base.Tree == nil || base.Root == nil {
		return nil, &ParseError{Name: name, Msg: "template is empty"}
	}
	c := &checker{name: name, text: text, tree: base.Tree, maxDepth: lim.MaxDepth, vars: map[string]bool{}}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &Template{name: name, text: text, limits: lim, vars: c.varNames(), base: base}, nil
}

// parseError turns text/template's "template: NAME:LINE: msg" into a
// ParseError.
func parseError(name string, err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return &ParseError{Name: name, Msg: msg}
	}
	num, after, ok := strings.Cut(rest, ":")
	line, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return &ParseError{Name: name, Msg: msg}
	}
	return &ParseError{Name: name, Line: line, Msg: strings.TrimSpace(after)}
}

func (t *Template) newInstance() (*instance, error) {
	st := newState(t.limits)
	c, err := t.base.Clone()
	if err != nil {
		return nil, err
	}
	fm := funcMap(st)
	fm[guardFunc] = st.rangeGuard
	fm[tickFunc] = st.rangeTick
	c.Funcs(fm)
	return &instance{tmpl: c, st: st}, nil
}

// Name returns the template's name.
func (t *Template) Name() string { return t.name }

// Text returns the template's source, for storing it.
func (t *Template) Text() string { return t.text }

// Vars returns, sorted, the variables the template reads as {{.name}} at the
// top level or as {{$.name}} anywhere. It is best effort: a variable reached
// through an assigned variable ({{$v := .}}{{$v.name}}) is not listed.
func (t *Template) Vars() []string { return append([]string(nil), t.vars...) }

// Limits returns the limits the template renders under.
func (t *Template) Limits() Limits { return t.limits }

// Render executes the template with vars.
func (t *Template) Render(ctx context.Context, vars map[string]any) (out string, err error) {
	if err := checkVars(vars, t.limits.MaxVars); err != nil {
		return "", fmt.Errorf("render %s: %w", t.name, err)
	}
	switch err := ctx.Err(); {
	case errors.Is(err, context.DeadlineExceeded):
		// Out of time before the start, as a tick past the deadline
		// would report it.
		return "", fmt.Errorf("render %s: %w: %w", t.name, ErrTimeLimit, err)
	case err != nil:
		return "", fmt.Errorf("render %s: %w", t.name, err)
	}
	in, _ := t.pool.Get().(*instance)
	if in == nil {
		if in, err = t.newInstance(); err != nil {
			return "", fmt.Errorf("render %s: %w", t.name, err)
		}
	}
	in.st.start(ctx)
	w := &limitWriter{st: in.st}
	defer func() {
		in.st.finish()
		if r := recover(); r != nil {
			// text/template re-panics runtime errors; a template is
			// untrusted input and must not take the process down.
			out, err = "", fmt.Errorf("render %s: panic: %v", t.name, r)
			return // the instance may hold broken state: drop it
		}
		t.pool.Put(in)
	}()
	if err := in.tmpl.Execute(w, vars); err != nil {
		if in.st.err != nil && !errors.Is(err, in.st.err) {
			// A limit was hit inside text/template's machinery (for
			// example a guard error reported as a call error): report
			// the limit.
			err = fmt.Errorf("%w (%v)", in.st.err, err)
		}
		return "", fmt.Errorf("render %s: %w", t.name, err)
	}
	return string(w.b), nil
}

// checkVars accepts only JSON-like values: nothing with methods, functions,
// channels, pointers or structs, so a template can only read data. Their
// size is bounded too, since builtins such as eq work on them unmetered.
func checkVars(vars map[string]any, limit int) error {
	size := 0
	if err := checkValue(reflect.ValueOf(vars), 0, &size); err != nil {
		return err
	}
	if size > limit {
		return fmt.Errorf("variables are %d bytes, more than the limit of %d", size, limit)
	}
	return nil
}

// varError is a variable Render refuses. The path is built on the way out,
// so that checking costs nothing per element.
type varError struct {
	path []string // innermost first
	msg  string
}

func (e *varError) Error() string {
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		if i < len(e.path)-1 && !strings.HasPrefix(e.path[i], "[") {
			b.WriteByte('.')
		}
		b.WriteString(e.path[i])
	}
	return "variable " + b.String() + ": " + e.msg
}

func within(err error, segment string) error {
	if e, ok := err.(*varError); ok {
		e.path = append(e.path, segment)
	}
	return err
}

func checkValue(v reflect.Value, depth int, size *int) error {
	if depth > 64 {
		return &varError{msg: "nested more than 64 levels"}
	}
	*size += 8
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Type().NumMethod() > 0 && v.Type() != reflect.TypeFor[json.Number]() {
		return &varError{msg: fmt.Sprintf("type %s has methods; only plain data is allowed", v.Type())}
	}
	switch v.Kind() {
	case reflect.String:
		*size += v.Len()
		return nil
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(v.Index(i), depth+1, size); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return &varError{msg: fmt.Sprintf("map keys must be strings, not %s", v.Type().Key())}
		}
		it := v.MapRange()
		for it.Next() {
			*size += it.Key().Len()
			if err := checkValue(it.Value(), depth+1, size); err != nil {
				return within(err, it.Key().String())
			}
		}
		return nil
	}
	return &varError{msg: fmt.Sprintf("type %s is not allowed; only strings, numbers, bools, lists and maps", v.Type())}
}

// state is one render's budget. It is used by one goroutine at a time.
type state struct {
	lim       Limits
	timeout   error              // the cause when Limits.Timeout runs out
	ctx       context.Context    // the caller's, ending at Limits.Timeout at the latest
	cancel    context.CancelFunc // releases ctx's timer
	done      <-chan struct{}
	iters     int
	funcBytes int
	err       error // the first limit hit; sticky
}

func newState(lim Limits) *state {
	return &state{lim: lim, timeout: fmt.Errorf("%w: over %v", ErrTimeLimit, lim.Timeout)}
}

// start begins a render. The deadline is the context's or Limits.Timeout
// from now, whichever is earlier; either one closes done when it passes.
func (s *state) start(ctx context.Context) {
	*s = state{lim: s.lim, timeout: s.timeout}
	s.ctx, s.cancel = context.WithTimeoutCause(ctx, s.lim.Timeout, s.timeout)
	s.done = s.ctx.Done()
}

// finish releases the render's timer and drops the context, so a pooled
// state holds no reference to it.
func (s *state) finish() {
	if s.cancel != nil {
		s.cancel()
	}
	*s = state{lim: s.lim, timeout: s.timeout}
}

func (s *state) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// tick checks the context, which ends at the render's deadline, so a
// render stops at the first tick past it. What runs between two ticks is
// bounded but not always cheap (eq on two long variables is an unmetered
// builtin), which is why every tick checks rather than every few.
func (s *state) tick() error {
	if s.err != nil {
		return s.err
	}
	select {
	case <-s.done:
		cause := context.Cause(s.ctx)
		switch {
		case errors.Is(cause, ErrTimeLimit):
			return s.fail(cause)
		case errors.Is(cause, context.DeadlineExceeded):
			return s.fail(fmt.Errorf("%w: %w", ErrTimeLimit, cause))
		}
		return s.fail(fmt.Errorf("render canceled: %w", cause))
	default:
		return nil
	}
}

// charge counts n bytes built by a function.
func (s *state) charge(n int) error {
	if err := s.tick(); err != nil {
		return err
	}
	if n > s.lim.MaxFuncBytes-s.funcBytes {
		return s.fail(fmt.Errorf("%w: functions built more than %d bytes", ErrOutputLimit, s.lim.MaxFuncBytes))
	}
	s.funcBytes += n
	return nil
}

// guardFunc is the function every range is rewritten to pass its collection
// through, and tickFunc the one every range body starts with; they show in
// render errors. A template cannot call them: Parse refuses any function not
// in Funcs.
const (
	guardFunc = "range_limit"
	tickFunc  = "range_tick"
)

// rangeTick checks the deadline once per range iteration and prints nothing.
func (s *state) rangeTick() (string, error) { return "", s.tick() }

// rangeGuard lets a collection through if it is a slice, array or map within
// the limits, and counts its elements as iterations.
func (s *state) rangeGuard(v any) (any, error) {
	if err := s.tick(); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
	default:
		return nil, fmt.Errorf("range over %T is not allowed; only lists and maps", v)
	}
	n := rv.Len()
	if n > s.lim.MaxRangeLen {
		return nil, s.fail(fmt.Errorf("%w: range over %d elements, more than %d", ErrIterationLimit, n, s.lim.MaxRangeLen))
	}
	if n > s.lim.MaxIterations-s.iters {
		return nil, s.fail(fmt.Errorf("%w: more than %d range iterations", ErrIterationLimit, s.lim.MaxIterations))
	}
	s.iters += n
	return v, nil
}

// limitWriter collects output up to the limit.
type limitWriter struct {
	st *state
	b  []byte
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if err := w.st.tick(); err != nil {
		return 0, err
	}
	if len(p) > w.st.lim.MaxOutput-len(w.b) {
		return 0, w.st.fail(fmt.Errorf("%w: output is more than %d bytes", ErrOutputLimit, w.st.lim.MaxOutput))
	}
	w.b = append(w.b, p...)
	return len(p), nil
}
