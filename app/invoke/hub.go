package invoke

import (
	"context"
	"sync"
	"time"

	"github.com/plugboard/plugboard/store"
)

// liveRun is a run whose invocation is going on in this process.
type liveRun struct {
	cancel    context.CancelFunc
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every new message
	cancelled bool

	// rec orders the run's recording: while buffer holds (a Call's run
	// that nobody follows), its events are kept in pending and stored with
	// its end, in one transaction; a follower arriving stores them first
	// and ends the buffering, so that it sees every message as it comes.
	// Such a run is recorded (recorded) only at its end, with its events
	// (store.SaveRun), unless a follower comes or it runs longer than
	// recordAfter: then it is recorded as running first.
	rec      sync.Mutex
	run      *store.Run
	recorded bool
	buffer   bool
	pending  []*store.RunEvent
	// deleted says the run was deleted while it ran: it is not recorded.
	deleted bool
}

// recordAfter is how long a Call's run may go unrecorded: one that takes
// longer is recorded as running then.
const recordAfter = time.Second

// hub holds the live runs by id.
type hub struct {
	mu   sync.Mutex
	runs map[string]*liveRun
}

func newHub() *hub { return &hub{runs: map[string]*liveRun{}} }

// add makes the run live; buffer says whether its events may wait for its
// end while nobody follows it, recorded whether the run is in the store.
func (h *hub) add(p *prepared, cancel context.CancelFunc, buffer bool) *liveRun {
	lr := &liveRun{cancel: cancel, changed: make(chan struct{}), run: p.run, recorded: p.recorded, buffer: buffer}
	h.mu.Lock()
	h.runs[p.run.ID] = lr
	h.mu.Unlock()
	return lr
}

func (h *hub) get(id string) *liveRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[id]
}

func (h *hub) remove(id string) {
	h.mu.Lock()
	delete(h.runs, id)
	h.mu.Unlock()
}

// wait returns a channel closed at the run's next change; nil when the run
// is not live.
func (h *hub) wait(id string) <-chan struct{} {
	lr := h.get(id)
	if lr == nil {
		return nil
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.changed
}

func (lr *liveRun) notify() {
	lr.mu.Lock()
	close(lr.changed)
	lr.changed = make(chan struct{})
	lr.mu.Unlock()
}

// stop cancels the invocation; closing its context closes the stream, which
// cancels the invoke in the plugin.
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
