package web

import (
	"context"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/web/page"
)

// Daemon health checks: how long a check may take, and how long its answer
// is reused before the next page asks again.
const (
	healthTimeout = page.DaemonTimeout
	healthTTL     = 2 * time.Second
)

// daemonHealth remembers, for a short while, whether the daemon answered.
type daemonHealth struct {
	daemon *client.Client
	url    string
	now    func() time.Time

	mu      sync.Mutex
	checked time.Time
	problem string
}

func newDaemonHealth(d *client.Client, url string, now func() time.Time) *daemonHealth {
	return &daemonHealth{daemon: d, url: url, now: now}
}

// Problem returns why the daemon cannot be reached, or "" when it answered
// its health check.
func (h *daemonHealth) Problem(ctx context.Context) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.checked.IsZero() && h.now().Sub(h.checked) < healthTTL {
		return h.problem
	}
	h.problem = h.check(ctx)
	h.checked = h.now()
	return h.problem
}

func (h *daemonHealth) check(ctx context.Context) string {
	if h.daemon == nil {
		return "no daemon is configured."
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := h.daemon.Health(ctx); err != nil {
		where := "The daemon"
		if h.url != "" {
			where += " at " + h.url
		}
		return where + " did not answer its health check: " + page.TransportError(err) + "."
	}
	return ""
}
