package web

import (
	"context"
	"fmt"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/errs"
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

// auditedTask is who started which task on what, from where.
type auditedTask struct {
	id, actor, origin, action, target string
}

// follow waits, in the background, for the task to end and audits it.
func (a *taskAuditor) follow(t auditedTask, log func(error)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_, err := a.daemon.WaitTask(a.ctx, t.id)
		if a.ctx.Err() != nil {
			return // closing: the task goes on in the daemon, unaudited
		}
		outcome, detail := store.OutcomeSuccess, "task "+t.id+" finished"
		if err != nil { // WaitTask's error for a task that failed
			outcome, detail = store.OutcomeFailure, fmt.Sprintf("task %s: %s", t.id, errs.Message(err))
		}
		ctx := store.WithOrigin(a.ctx, t.origin)
		if err := a.store.AuditOutcome(ctx, t.actor, t.action, t.target, detail, outcome); err != nil {
			log(err)
		}
	}()
}

// Close stops following tasks and waits for the goroutines to end.
func (a *taskAuditor) Close() {
	a.cancel()
	a.wg.Wait()
}

// auditInstallStart records that an install or upgrade task started, and
// follows it to record how it ends.
func (s *Server) auditInstallStart(c echo.Context, action, target, taskID, source string) {
	s.auditOutcome(c, actor(c), action, target, "task "+taskID+" from "+source, store.OutcomeStarted)
	t := auditedTask{id: taskID, actor: actor(c), origin: store.Origin(ctx(c)), action: action, target: target}
	s.taskAudit.follow(t, func(err error) {
		s.log.Error("audit log write failed", "action", action, "target", target, "err", err)
	})
}

// Close stops the server's background work (the live playground runs,
// following install tasks for the audit log) and waits for it.
func (s *Server) Close() {
	s.invoker.Close()
	s.taskAudit.Close()
}
