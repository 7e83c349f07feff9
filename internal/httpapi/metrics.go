package httpapi

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// spendLabel marks the series that say what a department spent or how close
// it is to its budget (netsmith_cost_usd_total, netsmith_budget_alerts_total):
// what GET /v1/costs shows only to a key that may see that department.
const spendLabel = "department"

// metricsHandler serves /metrics. Once API keys exist, series labelled by
// department are served only to a key that may see that department: an
// admin key (or the open mode) sees them all, a user key its own
// department's, no key none of them. Everything else stays open to the
// scraper, as the load balancers and Prometheus need no key for it. A key
// that is sent and wrong is refused, so a scraper misconfiguration is
// loud rather than silently missing series.
func (s *Server) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		var e *Error
		switch {
		case err != nil && r.Header.Get("Authorization") == "" && errors.As(err, &e) && e.Status == http.StatusUnauthorized:
			p = &Principal{} // keys exist and none was sent: no department
		case err != nil:
			s.writeError(w, r, err)
			return
		}
		g := prometheus.Gatherer(s.reg)
		if !p.Admin() {
			g = spendFilter{g: s.reg, p: p}
		}
		promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	})
}

// spendFilter drops the department series p may not see.
type spendFilter struct {
	g prometheus.Gatherer
	p *Principal
}

func (f spendFilter) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := f.g.Gather()
	out := mfs[:0]
	for _, mf := range mfs {
		kept := mf.Metric[:0]
		for _, m := range mf.Metric {
			if f.visible(m) {
				kept = append(kept, m)
			}
		}
		if len(kept) > 0 {
			mf.Metric = kept
			out = append(out, mf)
		}
	}
	return out, err
}

func (f spendFilter) visible(m *dto.Metric) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == spendLabel {
			return f.p.Department != "" && f.p.sees(l.GetValue())
		}
	}
	return true
}
