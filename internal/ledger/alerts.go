package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"netsmith/internal/metrics"
	"netsmith/internal/netcfg"
)

// Alerts reports departments crossing their budget's warning share: a
// warning line, a metric, and the budget's webhook if it has one. It owns
// the webhook posts in flight, which run beside the request that crossed
// the line so that a slow receiver delays none; Close ends them.
type Alerts struct {
	logger *slog.Logger
	m      *metrics.Metrics
	client *http.Client
	ctx    context.Context // ends the posts in flight once close gives up on them
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	posts  sync.WaitGroup
}

// NewAlerts reports to logger and m (which may be nil).
func NewAlerts(logger *slog.Logger, m *metrics.Metrics) *Alerts {
	ctx, cancel := context.WithCancel(context.Background())
	return &Alerts{logger: logger, m: m, client: &http.Client{Timeout: 10 * time.Second}, ctx: ctx, cancel: cancel}
}

// Alert reports a.
func (b *Alerts) Alert(a netcfg.BudgetAlert) {
	u := a.Usage
	b.logger.Warn("budget warning: department passed its threshold", "department", a.Department,
		"period", u.Name, "warn_pct", a.WarnPct, "limit_usd", float64(u.LimitNUSD)/1e9,
		"spent_usd", float64(u.SpentNUSD)/1e9, "reserved_usd", float64(u.ReservedNUSD)/1e9)
	if b.m != nil {
		b.m.BudgetAlerts.WithLabelValues(a.Department, u.Period).Inc()
	}
	if a.WebhookURL == "" {
		return
	}
	body, _ := json.Marshal(map[string]any{"event": "budget_threshold", "department": a.Department,
		"period": u.Period, "period_name": u.Name, "warn_pct": a.WarnPct, "limit_usd": float64(u.LimitNUSD) / 1e9,
		"spent_usd": float64(u.SpentNUSD) / 1e9, "reserved_usd": float64(u.ReservedNUSD) / 1e9,
		"at": time.Now().UTC().Format(time.RFC3339)})
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.logger.Warn("budget webhook not sent: shutting down", "department", a.Department)
		return
	}
	b.posts.Go(func() { b.post(a.Department, a.WebhookURL, body) })
}

func (b *Alerts) post(department, url string, body []byte) {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.logger.Warn("budget webhook failed", "department", department, slog.Any("error", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		b.logger.Warn("budget webhook failed", "department", department, slog.Any("error", err))
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.logger.Warn("budget webhook refused", "department", department, "status", resp.StatusCode)
	}
}

// Close stops taking alerts and waits for the posts in flight until ctx
// ends, then cancels those left and waits for them to return. It may be
// called more than once.
func (b *Alerts) Close(ctx context.Context) {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	stop := context.AfterFunc(ctx, b.cancel)
	b.posts.Wait()
	stop()
	b.cancel()
}
