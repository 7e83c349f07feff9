package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"netsmith/internal/netcfg"
	"netsmith/internal/submit"
)

// Principal is who sent a request: the API key's identity, or, while no
// key exists, an anonymous admin (open mode).
type Principal struct {
	KeyID      string
	Name       string
	Department string
	Role       string
	RPM        int64
	MaxActive  int64
	// Open is true when the service has no keys and anyone may call it.
	Open bool
}

// Admin reports whether p may see every department and manage budgets and
// the cache.
func (p *Principal) Admin() bool { return p.Open || p.Role == netcfg.RoleAdmin }

// sees reports whether p may see something that belongs to department.
func (p *Principal) sees(department string) bool { return p.Admin() || department == p.Department }

// InternalName is the owner recorded for jobs submitted with the server's
// InternalKey.
const InternalName = "netsmith-internal"

type principalKey struct{}

func principal(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return &Principal{Open: true, Role: netcfg.RoleAdmin}
}

// NewAPIKey returns a new random API key and the hash stored for it.
func NewAPIKey() (secret, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret = "nsk_" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashAPIKey(secret)
}

// HashAPIKey is the stored form of a key: SHA-256, which is enough for a
// 256-bit random secret (nothing to brute-force, unlike a password).
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewKeyID returns a key's public id.
func NewKeyID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "key_" + hex.EncodeToString(b[:])
}

// keyGate remembers whether any key exists. Once one does the answer never
// changes (keys are revoked, not deleted); until then it is re-read at
// most once a second, so a key created with `netsmith keys create` while
// the server runs closes the API within a second.
type keyGate struct {
	mu      sync.Mutex
	exists  bool
	checked time.Time
}

func (g *keyGate) required(ctx context.Context, db Keys) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.exists || time.Since(g.checked) < time.Second {
		return g.exists, nil
	}
	ok, err := db.AnyKeys(ctx)
	if err != nil {
		return false, err
	}
	g.exists, g.checked = ok, time.Now()
	return ok, nil
}

var errUnauthorized = func(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: "authentication_error", Msg: msg}
}

// authenticate finds the request's principal. Every /v1 and /api route
// goes through it; health, metrics and the dashboard page do not.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	required, err := s.keys.required(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if !required {
		return &Principal{Open: true, Role: netcfg.RoleAdmin}, nil
	}
	h := r.Header.Get("Authorization")
	// The scheme name is case-insensitive (RFC 9110 §11.1).
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		if h == "" {
			return nil, errUnauthorized("missing API key: send Authorization: Bearer <key>")
		}
		return nil, errUnauthorized("Authorization header must be \"Bearer <key>\"")
	}
	secret = strings.TrimSpace(secret)
	if s.cfg.InternalKey != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.InternalKey)) == 1 {
		return &Principal{Name: InternalName, Role: netcfg.RoleAdmin}, nil
	}
	k, err := s.db.KeyByHash(ctx, HashAPIKey(secret))
	if errors.Is(err, netcfg.ErrNotFound) {
		return nil, errUnauthorized("invalid API key")
	}
	if err != nil {
		return nil, err
	}
	if k.Revoked() {
		return nil, errUnauthorized("API key " + k.ID + " was revoked")
	}
	return &Principal{KeyID: k.ID, Name: k.Name, Department: k.Department, Role: k.Role,
		RPM: k.RPM, MaxActive: k.MaxActive}, nil
}

// needsAuth reports whether a route pattern is part of the API. The legacy
// health check stays open like /healthz and /readyz: it reveals only that
// the service runs and its provider's name, and the load balancers and
// scripts that call it have no key.
func needsAuth(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	if path == "/api/health" {
		return false
	}
	return strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/api/")
}

func forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Type: "permission_error", Msg: msg}
}

// requireAdmin refuses callers without the admin role.
func requireAdmin(r *http.Request) error {
	if !principal(r.Context()).Admin() {
		return forbidden("this needs an admin key")
	}
	return nil
}

// admit applies the caller's per-key limits to a submission of n jobs: its
// submissions per minute (shared by every replica through the database)
// and, when it has one, its limit of unfinished jobs, which the queue takes
// in the submission's transaction.
func (s *Server) admit(ctx context.Context, p *Principal) error {
	if p.KeyID == "" || p.RPM <= 0 {
		return nil
	}
	wait, err := s.db.TakeKeyRate(ctx, p.KeyID, p.RPM, time.Now())
	if err != nil {
		return err
	}
	if wait > 0 {
		return &Error{Status: http.StatusTooManyRequests, Type: "rate_limit_error", RetryAfter: wait,
			Msg: "key " + p.Name + " is over its limit of submissions per minute; retry after the Retry-After header's seconds"}
	}
	return nil
}

// submitter is the request's principal as the submission use case sees it.
type submitter struct {
	s *Server
	p *Principal
}

func (s *Server) submitter(ctx context.Context) submit.Submitter {
	return submitter{s: s, p: principal(ctx)}
}

func (w submitter) Attribute(j *netcfg.Job, department string) error {
	return attribute(w.p, j, department)
}
func (w submitter) Admit(ctx context.Context) error { return w.s.admit(ctx, w.p) }

// attribute stamps a job with who pays for it. A user key always pays for
// its own department; an admin (or open mode) may name one.
func attribute(p *Principal, j *netcfg.Job, department string) error {
	switch {
	case p.Open:
		j.Department = department
	case department != "" && department != p.Department && !p.Admin():
		return forbidden("this key belongs to department " + p.Department + " and cannot submit for " + department)
	case department != "":
		j.Department = department
	default:
		j.Department = p.Department
	}
	j.Owner, j.KeyID = p.Name, p.KeyID
	j.HoldsSlot = p.MaxActive > 0
	return nil
}
