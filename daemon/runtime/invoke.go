package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// invoke opens a session: it waits (bounded by ctx and the invocation
// timeout) for the plugin to be running and for a free slot, registers the
// session, arms its timeout and context watch, and sends the request.
func (p *plugin) invoke(ctx context.Context, req *protocol.RequestData) (*Stream, error) {
	start := time.Now()
	for {
		stream, err := p.tryInvoke(ctx, req, start)
		var notSent *notSentError
		if !errors.As(err, &notSent) {
			return stream, err
		}
		// The instance ended before the request went out: nothing reached
		// the plugin, so wait for the next instance and send it there.
		if ctx.Err() != nil || p.ended() {
			return nil, notSent.err
		}
	}
}

// tryInvoke opens a session on the current instance.
func (p *plugin) tryInvoke(ctx context.Context, req *protocol.RequestData, start time.Time) (*Stream, error) {
	c, err := p.conn(ctx, start)
	if err != nil {
		return nil, err
	}
	if err := p.acquire(); err != nil {
		return nil, err
	}
	s := newSession(c, p.releaseSlot)
	s.origin, s.userID, s.from = OriginOf(ctx), req.UserID, req.Type
	id := p.spec.PluginID
	limit := p.invokeTimeout()
	timer := time.AfterFunc(limit-time.Since(start), func() {
		s.finish(plugboard.Errorf(plugboard.ETIMEOUT, "plugin %s did not finish within %s", id, limit), true)
	})
	s.arm(timer.Stop, context.AfterFunc(ctx, func() { s.finish(contextError(id, ctx.Err()), true) }))
	if err := c.open(s, req); err != nil {
		s.finish(err, false)
		return nil, err
	}
	return &Stream{s: s}, nil
}

func (p *plugin) releaseSlot() { <-p.slots }

// conn returns the running instance's conn, waiting while the plugin is
// starting or restarting.
func (p *plugin) conn(ctx context.Context, start time.Time) (*conn, error) {
	if c := p.live.Load(); c != nil {
		return c, nil
	}
	var timeout <-chan time.Time
	for {
		p.mu.Lock()
		state, last, changed := p.state, p.lastError, p.changed
		c := p.live.Load()
		p.mu.Unlock()
		switch {
		case c != nil:
			return c, nil
		case state == apispec.StateFailed:
			return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s has failed: %s", p.spec.PluginID, last)
		case state == apispec.StateStopped:
			return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s is stopped", p.spec.PluginID)
		}
		if timeout == nil {
			timer := time.NewTimer(p.invokeTimeout() - time.Since(start))
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, p.notReady(state, last)
		case <-timeout:
			return nil, p.notReady(state, last)
		}
	}
}

func (p *plugin) notReady(state, last string) error {
	if last != "" {
		return plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s is %s (last error: %s)", p.spec.PluginID, state, last)
	}
	return plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s is %s", p.spec.PluginID, state)
}

// acquire takes a concurrency slot, or fails at once with plugboard.EBUSY when
// every slot is in use: a caller is better told to come back than left
// waiting without an answer behind calls that may hang.
func (p *plugin) acquire() error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	return plugboard.Errorf(plugboard.EBUSY, "plugin %s is busy: all %d of its invocation slots are in use; try again shortly",
		p.spec.PluginID, cap(p.slots))
}
