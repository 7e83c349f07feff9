package httpapi

import (
	"net/http"
	"netsmith/internal/netcfg"
)

// CacheStats is the body of GET /v1/cache/stats.
type CacheStats struct {
	Enabled           bool    `json:"enabled"`
	Entries           int64   `json:"entries"`
	Ready             int64   `json:"ready"`
	Invalid           int64   `json:"invalid"`
	Hits              int64   `json:"hits"`
	Misses            int64   `json:"misses"`
	Coalesced         int64   `json:"coalesced"`
	Fallbacks         int64   `json:"fallbacks"`
	HitRate           float64 `json:"hit_rate"`
	SavedInputTokens  int64   `json:"saved_input_tokens"`
	SavedOutputTokens int64   `json:"saved_output_tokens"`
	SavedCostUSD      float64 `json:"saved_cost_usd"`
}

func (s *Server) handleCacheStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.db.GetCacheStats(r.Context(), "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewCacheStats(st, s.cache != nil))
}

// NewCacheStats is the API's view of the cache's stored counters; enabled
// says whether the process serving it runs the cache.
func NewCacheStats(st *netcfg.CacheStats, enabled bool) CacheStats {
	out := CacheStats{Enabled: enabled, Entries: st.Entries, Ready: st.Ready, Invalid: st.Invalid,
		Hits: st.Hits, Misses: st.Misses, Coalesced: st.Coalesced, Fallbacks: st.Fallbacks,
		SavedInputTokens: st.SavedInputTokens, SavedOutputTokens: st.SavedOutputTokens, SavedCostUSD: usd(st.SavedNUSD)}
	if n := st.Hits + st.Misses + st.Coalesced + st.Fallbacks; n > 0 {
		out.HitRate = float64(st.Hits+st.Coalesced) / float64(n)
	}
	return out
}

// InvalidateRequest is the body of POST /v1/cache/invalidate: entries of one
// key, device, role or platform (combined with AND), or all of them.
type InvalidateRequest struct {
	Key      string `json:"key,omitempty"`
	Device   string `json:"device,omitempty"`
	Role     string `json:"role,omitempty"`
	Platform string `json:"platform,omitempty"`
	All      bool   `json:"all,omitempty"`
}

func (s *Server) handleCacheInvalidate(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req InvalidateRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, f := range []struct{ name, v string }{{"key", req.Key}, {"device", req.Device}, {"role", req.Role}, {"platform", req.Platform}} {
		if err := checkText(f.name, f.v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	f := netcfg.TemplateFilter{Key: req.Key, Hostname: req.Device, Role: req.Role, Platform: req.Platform, All: req.All}
	if f == (netcfg.TemplateFilter{}) {
		s.writeError(w, r, badRequest("name a key, device, role or platform to invalidate, or set all: true"))
		return
	}
	var (
		n   int64
		err error
	)
	if s.cache != nil {
		n, err = s.cache.Invalidate(r.Context(), f)
	} else {
		n, err = s.db.InvalidateTemplates(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"invalidated": n})
}
