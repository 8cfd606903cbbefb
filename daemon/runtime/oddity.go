package runtime

import (
	"sync"
	"time"
)

// oddityEvery is how often one kind of odd plugin output is logged at most.
const oddityEvery = time.Minute

// Kinds of plugin output the daemon drops, each logged on its own schedule.
const (
	oddUnknownSession     = "a session event for an unknown session (a late message after a cancel or timeout, or a wrong id)"
	oddUnknownSessionType = "a session message of an unknown type"
	oddUnknownEvent       = "an event of an unknown kind"
)

// oddities rate-limits the daemon's log lines about dropped plugin output:
// the first of each kind is logged at once, later ones at most every
// oddityEvery with a count of those not logged, so a plugin cannot flood the
// daemon's log.
type oddities struct {
	mu   sync.Mutex
	last map[string]time.Time
	skip map[string]int
}

// note logs kind (with detail) for c's plugin unless it was logged lately.
func (c *conn) note(kind, detail string) {
	o := &c.odd
	now := time.Now()
	o.mu.Lock()
	if o.last == nil {
		o.last, o.skip = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := o.last[kind]; ok && now.Sub(t) < oddityEvery {
		o.skip[kind]++
		o.mu.Unlock()
		return
	}
	skipped := o.skip[kind]
	o.last[kind], o.skip[kind] = now, 0
	o.mu.Unlock()
	c.log.Warn("plugin output dropped: "+kind, "plugin", c.pluginID, "detail", detail, "not_logged_since_last", skipped)
}
