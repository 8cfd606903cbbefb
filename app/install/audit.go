package install

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// taskAuditor follows install and upgrade tasks to their end and records
// how each ended in the audit log; Close stops following and waits.
type taskAuditor struct {
	daemon *client.Client
	store  *store.DB
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newTaskAuditor(cl *client.Client, db *store.DB) *taskAuditor {
	ctx, cancel := context.WithCancel(context.Background())
	return &taskAuditor{daemon: cl, store: db, ctx: ctx, cancel: cancel}
}

// auditedTask is who started which task on what.
type auditedTask struct {
	id, actor, action, target string
}

// follow waits, in the background, for the task to end and audits it, from
// the origin (client address) of ctx, the call that started it.
func (a *taskAuditor) follow(ctx context.Context, t auditedTask, log *slog.Logger) {
	origin := store.Origin(ctx)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_, err := a.daemon.WaitTask(a.ctx, t.id)
		if a.ctx.Err() != nil {
			return // closing: the task goes on in the daemon, unaudited
		}
		outcome, detail := store.OutcomeSuccess, "task "+t.id+" finished"
		if err != nil { // WaitTask's error for a task that failed
			outcome, detail = store.OutcomeFailure, fmt.Sprintf("task %s: %s", t.id, plugboard.ErrorMessage(err))
		}
		if err := a.store.AuditOutcome(store.WithOrigin(a.ctx, origin), t.actor, t.action, t.target, detail, outcome); err != nil {
			log.Error("audit log write failed", "action", t.action, "target", t.target, "err", err)
		}
	}()
}

// Close stops following tasks and waits for the goroutines to end.
func (a *taskAuditor) Close() {
	a.cancel()
	a.wg.Wait()
}
