// Package invoke is the application service that invokes a plugin's tool on
// behalf of a user: it picks and opens the credential, checks the
// parameters against the tool's declaration, records the run, calls the
// daemon, stores every message with the run's secrets redacted, wakes the
// run's followers and finishes the run. The playground calls it through
// web; the agent and the gateway will call the same code path.
package invoke

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	// Keys opens the stored credentials' secrets (nil: no credential can
	// be opened).
	Keys   *secret.Keyring
	Logger *slog.Logger
	// Finished, when set, is told how each run ended and how long it took
	// (the app's metrics).
	Finished func(pluginID, status string, took time.Duration)
}

// Service invokes tools and keeps the runs going on in this process. Its
// runs end with Close.
type Service struct {
	cfg    Config
	store  *store.DB
	daemon *client.Client
	log    *slog.Logger
	live   *hub
	// ctx is cancelled by Close; every run's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc
	// mu guards closed and adding to wg: no run starts once Close waits.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// New returns the service. Runs an earlier process left "running" are
// marked failed first: nothing runs them any more.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, store: cfg.Store, daemon: cfg.Daemon, log: cfg.Logger, live: newHub(), ctx: ctx, cancel: cancel}
	if s.store != nil {
		s.settleOrphanRuns(ctx)
	}
	return s
}

// settleOrphanRuns marks failed the runs an earlier process left "running":
// at start, before this process can have started one.
func (s *Service) settleOrphanRuns(ctx context.Context) {
	if n, err := s.store.InterruptRuns(ctx); err != nil {
		s.log.Error("playground: mark interrupted runs", "err", err)
	} else if n > 0 {
		s.log.Info("playground: runs interrupted by a restart marked failed", "runs", n)
	}
}

// Close cancels every live run and waits until each is recorded as ended
// (failed: interrupted); runs asked for afterwards are refused.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// track counts a run that is about to start, so that Close waits for it;
// once the service is closed it refuses.
func (s *Service) track() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return plugboard.Errorf(plugboard.EUNAVAILABLE, "Plugboard is shutting down; run the tool again once it is back.")
	}
	s.wg.Add(1)
	return nil
}

// Start records the run of req and invokes the tool in a goroutine of the
// service's; it returns the run as recorded (running). A request that does
// not fit the tool is a *Problems error, and nothing is recorded.
func (s *Service) Start(ctx context.Context, req Request) (*store.Run, error) {
	if err := s.track(); err != nil {
		return nil, err
	}
	p, err := s.prepare(ctx, req, false)
	if err != nil {
		s.wg.Done()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(s.ctx)
	lr := s.live.add(p, cancel, false)
	go func() {
		defer s.wg.Done()
		s.execute(runCtx, lr, p, nil)
	}()
	return p.run, nil
}

// Call is Start in the caller's goroutine: it returns when the run has
// ended, with the run as finally recorded. Each message is stored, then
// handed to onMessage (nil: none) with the run's secrets redacted. A
// cancelled ctx cancels the invocation; the run is recorded as cancelled.
func (s *Service) Call(ctx context.Context, req Request, onMessage func(*client.Message)) (*store.Run, error) {
	if err := s.track(); err != nil {
		return nil, err
	}
	defer s.wg.Done()
	p, err := s.prepare(ctx, req, true)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(s.ctx)
	// Nobody follows the run yet: it is recorded with its messages at its
	// end, in one transaction, unless someone comes to follow it (Follow)
	// or it runs longer than recordAfter.
	lr := s.live.add(p, cancel, true)
	stop := context.AfterFunc(ctx, lr.stop) // after add: a ctx already done cancels the run too
	defer stop()
	late := time.AfterFunc(recordAfter, func() { s.recordRunning(lr) })
	defer late.Stop()
	if r := s.execute(runCtx, lr, p, onMessage); r != nil {
		return r, nil
	}
	return s.store.FindRun(context.WithoutCancel(ctx), p.run.ID)
}

// Cancel stops a live run: the plugin sees the invoke cancelled, and the
// run is recorded as cancelled. It reports whether the run was live.
func (s *Service) Cancel(runID string) bool {
	lr := s.live.get(runID)
	if lr != nil {
		lr.stop()
	}
	return lr != nil
}

// Delete cancels the run if it is live and removes it with its output.
func (s *Service) Delete(ctx context.Context, runID string) error {
	if lr := s.live.get(runID); lr != nil {
		lr.rec.Lock()
		lr.deleted = true // a run not recorded yet is not recorded at its end
		lr.rec.Unlock()
		lr.stop()
	}
	return s.store.DeleteRun(ctx, runID)
}
