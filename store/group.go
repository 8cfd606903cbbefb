package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/plugboard/plugboard/daemon/sqlitedb"
)

// groupCommit runs the write transactions submitted while one is going on
// together, in the next one: concurrent tool calls' run writes share a
// commit (the one writing connection, its WAL frames and locks) instead of
// each waiting for a transaction of its own. A caller still returns only
// once its writes are committed. At one caller at a time it is one
// transaction per write, as before.
type groupCommit struct {
	db   *sql.DB
	mu   sync.RWMutex // guards closed and sending on ops
	ops  chan *groupOp
	done chan struct{}
	// closed refuses writes once the database is closing.
	closed bool
}

// groupOp is one submitted transaction body and where its outcome goes.
type groupOp struct {
	fn  func(*sql.Tx) error
	err chan error
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 128

var errClosed = errors.New("store: the database is closed")

func newGroupCommit(db *sql.DB) *groupCommit {
	g := &groupCommit{db: db, ops: make(chan *groupOp, maxGroup), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn in a write transaction, maybe shared with other callers'. fn
// may run twice (alone, after a shared transaction failed): it must set
// what it fills in from what it reads, not add to it.
func (g *groupCommit) do(fn func(*sql.Tx) error) error {
	op := &groupOp{fn: fn, err: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	g.ops <- op
	g.mu.RUnlock()
	return <-op.err
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
		batch := append(make([]*groupOp, 0, 8), first)
	gather:
		for len(batch) < maxGroup {
			select {
			case op, ok := <-g.ops:
				if !ok {
					break gather
				}
				batch = append(batch, op)
			default:
				break gather
			}
		}
		g.commit(batch)
	}
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
				op.err <- nil
			}
			return
		}
	}
	for _, op := range batch {
		op.err <- sqlitedb.InTx(ctx, g.db, op.fn)
	}
}
