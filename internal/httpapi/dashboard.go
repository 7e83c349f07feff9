package httpapi

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
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
	required, err := s.keys.required(r.Context(), s.db)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	auth := "open"
	if required {
		auth = "required"
	}
	// The page holds an API key while open: only its own script runs
	// (a fresh nonce each time), it talks only to this origin, and no
	// other site may frame it.
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := base64.StdEncoding.EncodeToString(n[:])
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'unsafe-inline'; "+
		"img-src data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	b = bytes.Replace(b, []byte("{{AUTH}}"), []byte(auth), 1)
	w.Write(bytes.Replace(b, []byte("{{NONCE}}"), []byte(nonce), 1))
}
