package store

import (
	"context"
	"netsmith/internal/netcfg"
	"time"
)

// The methods below are the store's functions on the pool each belongs
// on, for callers that hold a DB rather than a transaction (the HTTP API):
// reads go to ReadConn, writes and reads that must see a write just made
// to Conn.

// AnyKeys reports whether any API key exists.
func (db *DB) AnyKeys(ctx context.Context) (bool, error) { return AnyKeys(ctx, db.read) }

// KeyByHash returns the unrevoked key with hash, or netcfg.ErrNotFound.
func (db *DB) KeyByHash(ctx context.Context, hash string) (*netcfg.Key, error) {
	return KeyByHash(ctx, db.read, hash)
}

// TakeKeyRate takes one submission from key id's per-minute allowance (see
// TakeKeyRate).
func (db *DB) TakeKeyRate(ctx context.Context, id string, rpm int64, now time.Time) (time.Duration, error) {
	return TakeKeyRate(ctx, db.conn, id, rpm, now)
}

// GetBatch returns a batch with its counts, or netcfg.ErrNotFound; fresh reads on
// the writer, which sees a batch committed a moment ago on SQLite.
func (db *DB) GetBatch(ctx context.Context, id string, fresh bool) (*netcfg.BatchStatus, error) {
	return GetBatch(ctx, db.pick(fresh), id)
}

// GetEconomy returns a batch's economy record, or netcfg.ErrNotFound; fresh as
// in GetBatch.
func (db *DB) GetEconomy(ctx context.Context, batchID string, fresh bool) (*netcfg.BatchEconomy, error) {
	return GetEconomy(ctx, db.pick(fresh), batchID)
}

// ListBatchJobs pages through a batch's jobs (see ListBatchJobs).
func (db *DB) ListBatchJobs(ctx context.Context, batchID, after string, limit int) ([]*netcfg.Job, error) {
	return ListBatchJobs(ctx, db.read, batchID, after, limit)
}

// ListBatchJobsFinishedSince pages through a batch's jobs finished since
// since (see ListBatchJobsFinishedSince).
func (db *DB) ListBatchJobsFinishedSince(ctx context.Context, batchID string, since time.Time, after string, limit int) ([]*netcfg.Job, error) {
	return ListBatchJobsFinishedSince(ctx, db.read, batchID, since, after, limit)
}

// ListJobs lists jobs matching f (see ListJobs).
func (db *DB) ListJobs(ctx context.Context, f netcfg.JobFilter) ([]*netcfg.Job, error) {
	return ListJobs(ctx, db.read, f)
}

// GetCacheStats returns the template cache's counts, of one batch's jobs
// when batchID is set.
func (db *DB) GetCacheStats(ctx context.Context, batchID string) (*netcfg.CacheStats, error) {
	return GetCacheStats(ctx, db.read, batchID)
}

// InvalidateTemplates removes the template entries f matches.
func (db *DB) InvalidateTemplates(ctx context.Context, f netcfg.TemplateFilter) (int64, error) {
	return InvalidateTemplates(ctx, db.conn, f)
}

func (db *DB) pick(fresh bool) Conn {
	if fresh {
		return db.conn
	}
	return db.read
}

// DashboardJobs is DashboardJobs on the readers.
func (db *DB) DashboardJobs(ctx context.Context, department string, since time.Time) (*netcfg.JobOverview, error) {
	return DashboardJobs(ctx, db.read, department, since)
}

// Throughput is Throughput on the readers.
func (db *DB) Throughput(ctx context.Context, department string, now time.Time, width time.Duration, n int) ([]netcfg.ThroughputBucket, error) {
	return Throughput(ctx, db.read, department, now, width, n)
}

// RecentFailures is RecentFailures on the readers.
func (db *DB) RecentFailures(ctx context.Context, department string, since time.Time, limit, latest int) (*netcfg.Failures, error) {
	return RecentFailures(ctx, db.read, department, since, limit, latest)
}

// ActiveBatches is ActiveBatches on the readers.
func (db *DB) ActiveBatches(ctx context.Context, department string, since time.Time, limit int) ([]*netcfg.BatchStatus, error) {
	return ActiveBatches(ctx, db.read, department, since, limit)
}

// SpendToday is SpendToday on the readers.
func (db *DB) SpendToday(ctx context.Context, department string, now time.Time) ([]netcfg.DepartmentSpend, error) {
	return SpendToday(ctx, db.read, department, now)
}

// UpstreamStates is UpstreamStates on the readers.
func (db *DB) UpstreamStates(ctx context.Context, now time.Time) ([]netcfg.UpstreamState, error) {
	return UpstreamStates(ctx, db.read, now)
}
