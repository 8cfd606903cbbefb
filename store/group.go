package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/sqlitedb"
)

// groupCommit runs the write transactions submitted while one is going on
// together, in the next one: concurrent tool calls' run writes share a
// commit (the one writing connection, its WAL frames and locks) instead of
// each waiting for a transaction of its own. A caller that waits (do)
// returns once its writes are committed, and its batch is committed at
// once; writes nobody waits for (later) may wait up to linger for others
// to share their transaction with. At one caller at a time a waited write
// is one transaction, as before.
type groupCommit struct {
	db   *sql.DB
	mu   sync.RWMutex // guards closed and sending on ops
	ops  chan *groupOp
	done chan struct{}
	// closed refuses writes once the database is closing.
	closed bool
}

// groupOp is one submitted transaction body and whom to tell its outcome.
type groupOp struct {
	fn   func(*sql.Tx) error
	wait bool // a caller waits for it: its batch is committed at once
	done func(error)
}

const (
	// maxGroup bounds how many writes share one transaction.
	maxGroup = 128
	// linger is how long writes nobody waits for may wait for others: at
	// one gateway call at a time (a run every ~0.4 ms), 10 ms lets ~25
	// runs share a transaction, and a run's record costs ~87 µs of CPU
	// against ~116 µs at 2 ms (measured with paced SaveRunLater calls).
	linger = 10 * time.Millisecond
)

var errClosed = errors.New("store: the database is closed")

func newGroupCommit(db *sql.DB) *groupCommit {
	g := &groupCommit{db: db, ops: make(chan *groupOp, 4*maxGroup), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn in a write transaction, maybe shared with other callers', and
// returns its outcome. fn may run twice (alone, after a shared transaction
// failed): it must set what it fills in from what it reads, not add to it.
func (g *groupCommit) do(fn func(*sql.Tx) error) error {
	errc := make(chan error, 1)
	if err := g.submit(&groupOp{fn: fn, wait: true, done: func(err error) { errc <- err }}); err != nil {
		return err
	}
	return <-errc
}

// later runs fn as do does, without waiting: done (nil: none) is told the
// outcome, from the committing goroutine, within linger and a transaction.
func (g *groupCommit) later(fn func(*sql.Tx) error, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	return g.submit(&groupOp{fn: fn, done: done})
}

func (g *groupCommit) submit(op *groupOp) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errClosed
	}
	g.ops <- op
	return nil
}

// close commits what was submitted and stops.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.ops)
	}
	g.mu.Unlock()
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	for first := range g.ops {
		batch := append(make([]*groupOp, 0, 16), first)
		g.commit(g.gather(batch, first.wait))
	}
}

// gather adds to batch what is queued; unless a caller waits for one of
// them, it goes on gathering for linger, until the batch is full.
func (g *groupCommit) gather(batch []*groupOp, waited bool) []*groupOp {
	var timeout <-chan time.Time
	for len(batch) < maxGroup {
		var op *groupOp
		ok := true
		select {
		case op, ok = <-g.ops:
		default:
			if waited {
				return batch
			}
			if timeout == nil {
				t := time.NewTimer(linger)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case op, ok = <-g.ops:
			case <-timeout:
				return batch
			}
		}
		if !ok {
			return batch
		}
		batch = append(batch, op)
		waited = waited || op.wait
	}
	return batch
}

// commit runs the batch in one transaction; when that fails, each op runs
// again alone, so that only a failing one fails.
func (g *groupCommit) commit(batch []*groupOp) {
	ctx := context.Background() // each caller waits for its outcome; none cancels the others'
	if len(batch) > 1 {
		err := sqlitedb.InTx(ctx, g.db, func(tx *sql.Tx) error {
			for _, op := range batch {
				if err := op.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, op := range batch {
				op.done(nil)
			}
			return
		}
	}
	for _, op := range batch {
		op.done(sqlitedb.InTx(ctx, g.db, op.fn))
	}
}
