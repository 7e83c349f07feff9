// Package submit is netsmith's one way in for work: a single job (the v1
// API and the legacy one) or a fleet batch (the v1 API, and through it the
// embedded batch). Each submission is validated, checked against the
// queue's depth, attributed and admitted by its submitter, and then its
// budget reservation, its deduplication and its rows are one transaction
// on the queue.
package submit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"netsmith/internal/cache"
	"netsmith/internal/fleet"
	"netsmith/internal/generate"
	"netsmith/internal/ledger"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/worker"
)

// Config configures a Service.
type Config struct {
	// MaxQueue is the queue depth (queued + retrying) beyond which
	// submissions are refused with queue.ErrQueueFull; 0 means no limit.
	MaxQueue int64
	// EconomyLease is how long a batch's economy job holds its intents'
	// template leases (default 25 h: a Message Batch ends within 24 h).
	EconomyLease time.Duration
}

// Deps are what a Service works with.
type Deps struct {
	Queue  *queue.Queue
	Ledger *ledger.Ledger // budget warnings; nil drops them
	// Cache says the template cache is on: a fleet's devices carry their
	// intent's key, and a fleet reserves one call per intent.
	Cache bool
	// TemplateMeta names the template-cache entry of a request's intent
	// (generate.Service.TemplateMeta); economy mode and the cache need it.
	TemplateMeta func(*netcfg.JobRequest) cache.Meta
	// Estimate is the most one model call for a request can cost, in
	// nano-USD; budgets reserve it. Nil: nothing is reserved. An error
	// (a *netcfg.FieldError: a prompt over the limit) refuses the request.
	Estimate func(*netcfg.JobRequest) (int64, error)
	Logger   *slog.Logger
}

// Service submits jobs and fleets.
type Service struct {
	cfg Config
	d   Deps
}

// New returns a Service.
func New(cfg Config, d Deps) *Service {
	if cfg.EconomyLease <= 0 {
		cfg.EconomyLease = 25 * time.Hour
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, d: d}
}

// Submitter is who submits, as the caller (the API's authentication)
// knows them.
type Submitter interface {
	// Attribute stamps a job with who pays for it: department, owner, key
	// and whether it holds one of the key's slots. department is the one
	// the request names ("" for none).
	Attribute(j *netcfg.Job, department string) error
	// Admit takes one submission from the submitter's allowance (a key's
	// rate), or refuses it.
	Admit(ctx context.Context) error
}

// Job is one job to submit.
type Job struct {
	Request        *netcfg.JobRequest
	IdempotencyKey string
	ExpiresIn      time.Duration
	Department     string
}

// TooLargeError refuses a fleet larger than the whole queue.
type TooLargeError struct{ Devices, MaxQueue int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the fleet has %d devices, more than the queue holds (%d); split it", e.Devices, e.MaxQueue)
}

// Job validates in, reserves its estimate against its department's budget,
// and queues it, all but the validation in one transaction. When in's
// idempotency key was used before it returns the earlier job and
// duplicate=true (or netcfg.ErrConflict if the request differs).
func (s *Service) Job(ctx context.Context, who Submitter, in Job) (j *netcfg.Job, duplicate bool, err error) {
	req := in.Request
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	if err := s.CheckDepth(ctx, 0); err != nil {
		return nil, false, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(body)
	now := time.Now()
	j = &netcfg.Job{
		ID:             NewID(),
		Kind:           req.Kind,
		IdempotencyKey: in.IdempotencyKey,
		RequestHash:    hex.EncodeToString(sum[:]),
		Request:        body,
		CreatedAt:      now,
	}
	if in.ExpiresIn > 0 {
		j.ExpiresAt = now.Add(in.ExpiresIn)
	}
	if err := who.Attribute(j, in.Department); err != nil {
		return nil, false, err
	}
	if s.d.Estimate != nil {
		var err error
		if j.ReservedNUSD, err = s.d.Estimate(req); err != nil {
			return nil, false, err
		}
	}
	if err := who.Admit(ctx); err != nil {
		return nil, false, err
	}
	hold := ledger.NewHold([]*netcfg.Job{j})
	got, dup, err := s.d.Queue.Enqueue(ctx, j, func(ctx context.Context, tx *queue.Tx) error {
		// The budget's and key's rows, which every submission of the
		// department shares, are written last (see queue.Tx.Defer).
		take, err := hold.Plan(ctx, tx.Conn(), j.CreatedAt)
		if err != nil {
			return err
		}
		tx.Defer(take)
		return nil
	})
	if err == nil && !dup {
		s.d.Ledger.Alert(hold.Alerts)
	}
	return got, dup, err
}

// CheckDepth refuses adding n jobs (0: one single job, which may fill the
// queue to its limit) to a queue that is full.
func (s *Service) CheckDepth(ctx context.Context, n int64) error {
	if s.cfg.MaxQueue <= 0 {
		return nil
	}
	d, err := s.d.Queue.CachedDepth(ctx)
	if err != nil {
		return err
	}
	waiting := d[netcfg.StateQueued] + d[netcfg.StateRetrying]
	switch {
	case n == 0 && waiting >= s.cfg.MaxQueue:
		return fmt.Errorf("%w: %d jobs are waiting (limit %d); retry later", queue.ErrQueueFull, waiting, s.cfg.MaxQueue)
	case n > s.cfg.MaxQueue:
		return &TooLargeError{Devices: n, MaxQueue: s.cfg.MaxQueue}
	case n > 0 && waiting+n > s.cfg.MaxQueue:
		return fmt.Errorf("%w: %d jobs are waiting and the fleet adds %d (limit %d); retry later",
			queue.ErrQueueFull, waiting, n, s.cfg.MaxQueue)
	}
	return nil
}

// Fleet queues one job per device of f, all or nothing, as batch name.
// With economy, the templates of its intents that have no usable entry are
// leased to the batch's economy job in the same transaction, which makes
// them through one Message Batch.
func (s *Service) Fleet(ctx context.Context, who Submitter, name string, f *fleet.Fleet, economy bool, department string) (*netcfg.Batch, error) {
	if err := s.CheckDepth(ctx, int64(len(f.Devices))); err != nil {
		return nil, err
	}
	now := time.Now()
	b := &netcfg.Batch{ID: NewID(), Name: name, Devices: len(f.Devices), Intents: len(f.Intents), CreatedAt: now}
	jobs := make([]*netcfg.Job, len(f.Devices))
	var templates []*netcfg.Template // economy: one per distinct intent
	seen := map[string]bool{}
	estimated := map[string]bool{}
	meta, est := s.d.TemplateMeta, s.d.Estimate
	// Devices of one fleet intent with the same variable names share an
	// intent key: it is computed once for them, not once per device.
	metas := map[string]cache.Meta{}
	for i := range f.Devices {
		d := &f.Devices[i]
		req := netcfg.JobRequest{Kind: netcfg.KindGenerate, Device: &d.Device,
			Requirements: d.Intent.Requirements, Constants: d.Intent.Constants, CacheTTL: d.Intent.CacheTTL}
		// The intent's cache key.
		var m cache.Meta
		if meta != nil && (s.d.Cache || economy) {
			mk := strconv.Itoa(d.IntentIndex) + "\x00" + strings.Join(generate.VarNames(&d.Device), "\x00")
			var ok bool
			if m, ok = metas[mk]; !ok {
				m = meta(&req)
				metas[mk] = m
			}
		}
		if economy && !seen[m.Key] {
			seen[m.Key] = true
			templates = append(templates, &netcfg.Template{Key: m.Key, Kind: m.Kind, Role: m.Role,
				Platform: m.Platform, Hostname: m.Hostname, Intent: m.Intent})
		}
		body, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		jobs[i] = &netcfg.Job{ID: NewID(), Kind: netcfg.KindGenerate, RequestHash: hex.EncodeToString(sum[:]),
			Request: body, CreatedAt: now}
		if s.d.Cache {
			jobs[i].IntentKey = m.Key
		}
		if err := who.Attribute(jobs[i], department); err != nil {
			return nil, err
		}
		// With the template cache a fleet pays about one call per intent:
		// that is what is reserved, on the intent's first device.
		if est != nil && (!s.d.Cache || meta == nil || !estimated[m.Key]) {
			estimated[m.Key] = true
			if jobs[i].ReservedNUSD, err = est(&req); err != nil {
				var fe *netcfg.FieldError
				if errors.As(err, &fe) {
					return nil, &netcfg.FieldError{Field: fmt.Sprintf("device %s: %s", d.Device.Hostname, fe.Field), Msg: fe.Msg}
				}
				return nil, err
			}
		}
	}
	if len(jobs) > 0 {
		b.Department = jobs[0].Department
	}
	if err := who.Admit(ctx); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		j.BatchID = b.ID
	}
	hold := ledger.NewHold(jobs)
	leaseUntil := now.Add(s.cfg.EconomyLease)
	leased := 0
	err := s.d.Queue.InTx(ctx, func(ctx context.Context, tx *queue.Tx) error {
		if err := store.InsertBatch(ctx, tx.Conn(), b); err != nil {
			return err
		}
		if err := hold.Take(ctx, tx.Conn(), b.CreatedAt); err != nil {
			return err
		}
		if economy {
			// The leases are taken before the devices are queued, in
			// their transaction: no device job can start a normal fill
			// first.
			var err error
			if leased, err = s.leaseEconomy(ctx, tx, b, templates, leaseUntil); err != nil {
				return err
			}
		}
		return s.d.Queue.EnqueueManyTx(ctx, tx, jobs)
	})
	if err != nil {
		return nil, err
	}
	s.d.Ledger.Alert(hold.Alerts)
	if economy {
		s.d.Logger.InfoContext(ctx, "economy batch queued", "batch_id", b.ID, "intents", len(templates), "leased", leased)
	}
	return b, nil
}

// leaseEconomy leases to b's economy job, in tx, the templates that have no
// usable entry and no other filler, and queues that job when it leased
// any. It returns how many it leased.
func (s *Service) leaseEconomy(ctx context.Context, tx *queue.Tx, b *netcfg.Batch, templates []*netcfg.Template, until time.Time) (int, error) {
	c := tx.Conn()
	owner := store.EconomyOwner(b.ID)
	leased := 0
	for _, t := range templates {
		ok, err := store.AcquireTemplateLease(ctx, c, t, owner, until, b.CreatedAt)
		if err != nil {
			return 0, err
		}
		if ok {
			leased++
		}
	}
	if leased == 0 {
		return 0, nil
	}
	if err := store.InsertEconomy(ctx, c, &netcfg.BatchEconomy{BatchID: b.ID, CreatedAt: b.CreatedAt}); err != nil {
		return 0, err
	}
	return leased, s.d.Queue.InsertTx(ctx, tx, worker.EconomyArgs{BatchID: b.ID}, worker.EconomyInsertOpts())
}

// NewID returns a random UUID (version 4), the id of jobs and batches.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
