// Package agent is the application service that runs agents: an LLM
// (app/models), a set of installed plugin tools, each with the credential
// to call it with, and instructions. It loops as Dify's function-calling
// agent runner does — a model turn, the tool calls it asks for (several
// per turn run at once), their observations — until the model answers or
// the iteration limit; a model without tool calls is prompted ReAct-style.
// Tools are invoked only through app/invoke (stored credential, audit,
// redaction). Each step is recorded in the store; a run's live events are
// kept in memory for its followers until it ends.
package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Models *models.Service
	Invoke *invoke.Service
	// Daemon runs agent-strategy plugins (nil: only the built-in loops).
	Daemon *client.Client
	Logger *slog.Logger
	// ToolTimeout bounds each tool call (0: DefaultToolTimeout); a tool
	// that takes longer becomes an error observation.
	ToolTimeout time.Duration
}

// DefaultToolTimeout bounds a tool call when Config sets none.
const DefaultToolTimeout = 2 * time.Minute

// parallelCalls is how many tool calls of one turn run at once.
const parallelCalls = 4

// Service runs agents. Its runs end with Close.
type Service struct {
	cfg    Config
	store  *store.DB
	models *models.Service
	invoke *invoke.Service
	log    *slog.Logger
	// ctx is cancelled by Close; every run's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc
	// mu guards closed, live and adding to wg.
	mu     sync.Mutex
	closed bool
	live   map[string]*liveRun
	wg     sync.WaitGroup
}

// New returns the service. Agent runs an earlier process left running are
// marked failed first.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ToolTimeout <= 0 {
		cfg.ToolTimeout = DefaultToolTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, store: cfg.Store, models: cfg.Models, invoke: cfg.Invoke, log: cfg.Logger,
		ctx: ctx, cancel: cancel, live: map[string]*liveRun{}}
	if s.store != nil {
		if n, err := s.store.InterruptAgentRuns(ctx); err != nil {
			s.log.Error("agent: mark interrupted runs", "err", err)
		} else if n > 0 {
			s.log.Info("agent: runs interrupted by a restart marked failed", "runs", n)
		}
	}
	return s
}

// Close cancels every live run (the model's call and the running tools)
// and waits until each is recorded as ended; runs asked for afterwards
// are refused.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Start checks and records the run of req and runs it in a goroutine of
// the service's; it returns the run as recorded (running). A request that
// cannot run (no message, an unknown model or tool, a credential of
// another provider) is refused with nothing recorded.
func (s *Service) Start(ctx context.Context, req Request) (*store.AgentRun, error) {
	p, lr, err := s.begin(ctx, req)
	if err != nil {
		return nil, err
	}
	go func() {
		defer s.wg.Done()
		s.execute(lr, p)
	}()
	return p.run, nil
}

// Run is Start in the caller's goroutine: it returns when the run has
// ended, with the run as finally recorded (its steps too). Each event is
// handed to onEvent (nil: none) as it happens. A cancelled ctx cancels
// the run.
func (s *Service) Run(ctx context.Context, req Request, onEvent func(Event)) (*store.AgentRun, error) {
	p, lr, err := s.begin(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.wg.Done()
	lr.onEvent = onEvent
	stop := context.AfterFunc(ctx, lr.stop)
	defer stop()
	s.execute(lr, p)
	return s.store.FindAgentRun(context.WithoutCancel(ctx), p.run.ID)
}

// begin prepares and records a run and makes it live; the caller runs it
// and then calls s.wg.Done.
func (s *Service) begin(ctx context.Context, req Request) (*prepared, *liveRun, error) {
	if err := s.track(); err != nil {
		return nil, nil, err
	}
	p, err := s.prepare(ctx, req)
	if err != nil {
		s.wg.Done()
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(s.ctx)
	lr := &liveRun{ctx: runCtx, cancel: cancel, changed: make(chan struct{})}
	s.mu.Lock()
	s.live[p.run.ID] = lr
	s.mu.Unlock()
	return p, lr, nil
}

func (s *Service) track() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return plugboard.Errorf(plugboard.EUNAVAILABLE, "Plugboard is shutting down; run the agent again once it is back.")
	}
	s.wg.Add(1)
	return nil
}

// Cancel stops a live run: the model's call and the running tools are
// cancelled, and the run is recorded as cancelled. It reports whether the
// run was live.
func (s *Service) Cancel(runID string) bool {
	lr := s.liveRun(runID)
	if lr != nil {
		lr.stop()
	}
	return lr != nil
}

// Follow returns the events of a live run after the one numbered after
// and a channel closed at its next event; the run is not read from the
// store then (nil), its events ending with EventEnd say how it ends. When
// no run of this process runs it, Follow returns the run as stored, with
// no events and a nil channel: the store has all of it. A run recorded as
// running that nothing runs is marked failed first.
func (s *Service) Follow(ctx context.Context, runID string, after int) (*store.AgentRun, []Event, <-chan struct{}, error) {
	if lr := s.liveRun(runID); lr != nil {
		evs, changed := lr.since(after)
		return nil, evs, changed, nil
	}
	r, err := s.store.FindAgentRun(ctx, runID)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.Running() {
		if err := s.store.FinishAgentRun(ctx, r.ID, store.RunFailed, "", interrupted, r.TotalTokens); err != nil {
			return nil, nil, nil, err
		}
		if r, err = s.store.FindAgentRun(ctx, runID); err != nil {
			return nil, nil, nil, err
		}
	}
	return r, nil, nil, nil
}

func (s *Service) liveRun(id string) *liveRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// execute runs the loop and records how the run ended.
func (s *Service) execute(lr *liveRun, p *prepared) {
	defer func() {
		s.mu.Lock()
		delete(s.live, p.run.ID)
		s.mu.Unlock()
		lr.cancel()
	}()
	out := s.loop(lr, p)
	switch {
	case lr.wasCancelled():
		out.status, out.reason = store.RunCancelled, "Cancelled."
	case s.ctx.Err() != nil && out.status != store.RunDone:
		out.status, out.reason = store.RunFailed, interrupted
	}
	if err := s.store.FinishAgentRun(context.Background(), p.run.ID, out.status, out.answer, out.reason, out.tokens); err != nil {
		s.log.Error("agent: finish run", "run", p.run.ID, "err", err)
	}
	lr.emit(Event{Type: EventEnd, End: &End{Status: out.status, Answer: out.answer, Error: out.reason, TotalTokens: out.tokens}})
}

// interrupted is why a run ends when the service closes under it.
const interrupted = "The agent run was interrupted."

// liveRun is a run going on in this process: its events so far and how
// to stop it.
type liveRun struct {
	ctx       context.Context
	cancel    context.CancelFunc
	onEvent   func(Event)
	mu        sync.Mutex
	events    []Event
	changed   chan struct{} // closed and replaced at every event
	cancelled bool
}

// emit numbers an event, keeps it for followers and hands it to the
// Run's caller.
func (lr *liveRun) emit(ev Event) {
	lr.mu.Lock()
	ev.Seq = len(lr.events) + 1
	lr.events = append(lr.events, ev)
	close(lr.changed)
	lr.changed = make(chan struct{})
	on := lr.onEvent
	if on != nil {
		on(ev) // under the lock: the caller sees events in order
	}
	lr.mu.Unlock()
}

func (lr *liveRun) since(after int) ([]Event, <-chan struct{}) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	var out []Event
	if after < len(lr.events) {
		out = append(out, lr.events[max(after, 0):]...)
	}
	return out, lr.changed
}

func (lr *liveRun) stop() {
	lr.mu.Lock()
	lr.cancelled = true
	lr.mu.Unlock()
	lr.cancel()
}

func (lr *liveRun) wasCancelled() bool {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.cancelled
}
