package httpapi

import (
	"embed"
	"net/http"
)

//go:embed static
var staticFS embed.FS

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/dashboard.html")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}
