package agent

import (
	"encoding/json"
	"strconv"

	"github.com/labstack/echo/v4"

	appagent "github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/daemon/sse"
	"github.com/plugboard/plugboard/web/page"
)

// runEvents streams a live run's events (after Last-Event-ID), each named
// by its type with the event as JSON, until its "end"; a run no longer
// live gets one "end" with how it ended (the page then shows the stored
// run). Every write is checked: a stream cut short is logged once.
func (h *Handlers) runEvents(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	after, _ := strconv.Atoi(c.Request().Header.Get("Last-Event-ID"))
	ctx := page.Ctx(c)
	w := sse.Start(c.Response())
	send := func(ev appagent.Event) error {
		b, err := json.Marshal(ev)
		if err == nil {
			err = w.Event(strconv.Itoa(ev.Seq), ev.Type, b)
		}
		return err
	}
	for {
		run, evs, changed, err := h.cfg.Agent.Follow(ctx, r.ID, after)
		if err != nil {
			h.Log.Warn("agent: event stream ended early", "run", r.ID, "err", err)
			return nil
		}
		for _, ev := range evs {
			if err := send(ev); err != nil {
				h.Log.Info("agent: event stream ended early", "run", r.ID, "err", err)
				return nil
			}
			after = ev.Seq
			if ev.Type == appagent.EventEnd {
				return w.Flush()
			}
		}
		if changed == nil {
			end := appagent.Event{Seq: after + 1, Type: appagent.EventEnd, End: &appagent.End{Status: run.Status,
				Answer: run.Answer, Error: run.Error, TotalTokens: run.TotalTokens}}
			if err := send(end); err != nil {
				return nil
			}
			return w.Flush()
		}
		if err := w.Flush(); err != nil {
			h.Log.Info("agent: event stream ended early", "run", r.ID, "err", err)
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}
