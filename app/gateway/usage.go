package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard/store"
)

// usage gathers the keys' last use and the calls' audit entries and
// writes them together, a batch at a time: a call does not wait for a
// database write of its own, and a burst of calls costs one transaction.
type usage struct {
	db  *store.DB
	log *slog.Logger

	mu      sync.Mutex
	pending store.GatewayUse
	wake    chan struct{}
}

func newUsage(db *store.DB, log *slog.Logger) *usage {
	return &usage{db: db, log: log, wake: make(chan struct{}, 1), pending: store.GatewayUse{LastUsed: map[int64]time.Time{}}}
}

// used notes that key id was used at.
func (u *usage) used(id int64, at time.Time) {
	u.mu.Lock()
	if at.After(u.pending.LastUsed[id]) {
		u.pending.LastUsed[id] = at
	}
	u.mu.Unlock()
	u.poke()
}

// audit queues an audit entry.
func (u *usage) audit(e *store.AuditEntry) {
	u.mu.Lock()
	u.pending.Entries = append(u.pending.Entries, e)
	u.mu.Unlock()
	u.poke()
}

func (u *usage) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// usageEvery is how long usage waits to gather a batch: calls never wait
// on the database's one writer for their own audit entry.
const usageEvery = 250 * time.Millisecond

// run writes what is pending, at most every usageEvery, until ctx ends,
// and then once more.
func (u *usage) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			u.flush()
			return
		case <-u.wake:
		}
		select {
		case <-ctx.Done():
		case <-time.After(usageEvery):
		}
		u.flush()
	}
}

// flush writes what is pending.
func (u *usage) flush() {
	u.mu.Lock()
	batch := u.pending
	u.pending = store.GatewayUse{LastUsed: map[int64]time.Time{}}
	u.mu.Unlock()
	if len(batch.LastUsed) == 0 && len(batch.Entries) == 0 {
		return
	}
	if err := u.db.RecordGatewayUse(context.Background(), batch); err != nil {
		u.log.Error("gateway: record key use and calls", "err", err, "calls", len(batch.Entries))
	}
}
