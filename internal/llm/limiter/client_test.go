package limiter

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"netsmith/internal/llm"
)

// upstream stands in for a provider: it answers each call with the next of
// its outcomes (the last one repeats) and counts the calls.
type upstream struct {
	mu       sync.Mutex
	outcomes []func(llm.Request) (*llm.Response, error)
	calls    int
	before   func() // run before answering, when set
}

func (u *upstream) Generate(_ context.Context, req llm.Request) (*llm.Response, error) {
	u.mu.Lock()
	i := min(u.calls, len(u.outcomes)-1)
	u.calls++
	before := u.before
	u.mu.Unlock()
	if before != nil {
		before()
	}
	return u.outcomes[i](req)
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}

func answer(output int64) func(llm.Request) (*llm.Response, error) {
	return func(req llm.Request) (*llm.Response, error) {
		return &llm.Response{Provider: "anthropic", Model: req.Model, Text: "ok",
			Usage: llm.Usage{InputTokens: 10, OutputTokens: output}}, nil
	}
}

func request(model string, maxTokens int) llm.Request {
	return llm.Request{Model: model, MaxTokens: maxTokens, Messages: []llm.Message{{Role: "user", Content: "hello"}}}
}

// within returns a context that ends in d.
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestClient: the decorator keeps a limited model's calls inside its
// limiter and tells the limiter how each went; other models pass through.
func TestClient(t *testing.T) {
	t.Parallel()
	each(t, 1, func(t *testing.T, dbs []db) {
		t.Run("unlimited model passes through", func(t *testing.T) {
			t.Parallel()
			up := &upstream{outcomes: []func(llm.Request) (*llm.Response, error){answer(1)}}
			// One request a minute: a second call of "limited" would wait.
			c := Wrap(up, newLimiter(t, dbs[0], Config{Model: "limited", Limits: Limits{RPM: 1}}))
			for range 3 {
				resp, err := c.Generate(within(t, time.Second), request("other", 100))
				if err != nil || resp.Waited != 0 {
					t.Fatalf("call of an unlimited model = %+v, %v; want an answer, not held back", resp, err)
				}
			}
			if up.count() != 3 {
				t.Errorf("upstream called %d times, want 3", up.count())
			}
		})
		t.Run("usage settles the reservation", func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			up := &upstream{outcomes: []func(llm.Request) (*llm.Response, error){answer(0)}}
			// 1,000 output tokens a second: a call charged its
			// max_tokens of 10,000 owes 10 s unless its usage (none)
			// gives them back.
			c := Wrap(up, newLimiter(t, dbs[0], Config{Model: "settles", Limits: Limits{OutputTPM: 60000}, Clock: clock.Now}))
			for i := range 3 {
				if _, err := c.Generate(within(t, time.Second), request("settles", 10000)); err != nil {
					t.Fatalf("call %d: %v (its max_tokens were not given back)", i, err)
				}
			}
		})
		t.Run("a wait past the deadline is a rate limit", func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			up := &upstream{outcomes: []func(llm.Request) (*llm.Response, error){answer(10000)}}
			c := Wrap(up, newLimiter(t, dbs[0], Config{Model: "owes", Limits: Limits{OutputTPM: 60000}, Clock: clock.Now}))
			if _, err := c.Generate(within(t, time.Second), request("owes", 10000)); err != nil {
				t.Fatal(err)
			}
			// The first call used all 10,000: the next waits about 10 s.
			_, err := c.Generate(within(t, time.Second), request("owes", 10000))
			var le *llm.Error
			if !errors.As(err, &le) || le.Class != llm.RateLimited || le.RetryAfter < 5*time.Second || !errors.Is(err, llm.ErrHeldBack) {
				t.Fatalf("call owing 10s with a 1s deadline = %v, want a RateLimited error to retry in about 10s", err)
			}
			if up.count() != 1 {
				t.Errorf("upstream called %d times, want 1", up.count())
			}
		})
		t.Run("a 429 pauses the model's calls", func(t *testing.T) {
			t.Parallel()
			up := &upstream{outcomes: []func(llm.Request) (*llm.Response, error){
				func(llm.Request) (*llm.Response, error) {
					return nil, &llm.Error{Provider: "anthropic", Class: llm.RateLimited, Status: 429, RetryAfter: time.Minute}
				},
				answer(1),
			}}
			c := Wrap(up, newLimiter(t, dbs[0], Config{Model: "paused"}))
			if _, err := c.Generate(within(t, time.Second), request("paused", 100)); llm.ClassOf(err) != llm.RateLimited || errors.Is(err, llm.ErrHeldBack) {
				t.Fatalf("first call = %v, want the upstream's 429", err)
			}
			_, err := c.Generate(within(t, time.Second), request("paused", 100))
			var we *WaitError
			if !errors.As(err, &we) || we.Reason != ReasonPause || !errors.Is(err, llm.ErrHeldBack) {
				t.Fatalf("call during the pause = %v, want a wait for the pause", err)
			}
			if up.count() != 1 {
				t.Errorf("upstream called %d times during a pause, want 1", up.count())
			}
		})
	})
}

// TestClientSettleFails: when the limiter cannot record how a call went,
// the caller still gets the answer, and the failure is logged once.
func TestClientSettleFails(t *testing.T) {
	t.Parallel()
	each(t, 1, func(t *testing.T, dbs []db) {
		var logs bytes.Buffer
		var mu sync.Mutex
		logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		clock := newFakeClock()
		l := newLimiter(t, dbs[0], Config{Model: "lost", Limits: Limits{OutputTPM: 60000}, Clock: clock.Now, Logger: logger})
		up := &upstream{outcomes: []func(llm.Request) (*llm.Response, error){answer(1)}}
		up.before = func() {
			// The limiter's state goes away while the call is out.
			if _, err := dbs[0].conn.Exec(context.Background(), `DROP TABLE netsmith_upstream_limit`); err != nil {
				t.Error(err)
			}
		}
		resp, err := Wrap(up, l).Generate(within(t, 5*time.Second), request("lost", 10000))
		if err != nil || resp.Text != "ok" {
			t.Fatalf("call = %+v, %v; want the upstream's answer", resp, err)
		}
		mu.Lock()
		got := logs.String()
		mu.Unlock()
		if n := strings.Count(got, "call not settled"); n != 1 {
			t.Errorf("settle failure logged %d times, want 1:\n%s", n, got)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
