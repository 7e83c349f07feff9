package netcfg

import (
	"errors"
	"time"
)

// Key roles: an admin sees every department and manages budgets and the
// cache; a user sees and spends for its own department only.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Key is an API key without its secret (only a hash of it is stored).
type Key struct {
	ID         string
	Name       string
	Department string
	Role       string
	// RPM bounds the key's submissions per minute across all replicas;
	// MaxActive bounds its unfinished jobs. 0 means no limit.
	RPM       int64
	MaxActive int64
	Active    int64
	CreatedAt time.Time
	RevokedAt time.Time
}

// Revoked reports whether the key was revoked.
func (k *Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// ErrKeyName is returned when a live key already has the name.
var ErrKeyName = errors.New("a key with that name exists; revoke it first or choose another name")
