package httpapi

import (
	"bytes"
	"embed"
	"net/http"
)

//go:embed static
var staticFS embed.FS

// handleDashboard serves the page at /. It holds no data: it reads
// GET /v1/dashboard and GET /v1/jobs with the key the user pastes. It is
// told whether keys are required, so that it asks for one before its
// first request instead of after a 401.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/dashboard.html")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	required, err := s.keys.required(r.Context(), s.q.ReadConn())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	auth := "open"
	if required {
		auth = "required"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(bytes.Replace(b, []byte("{{AUTH}}"), []byte(auth), 1))
}
