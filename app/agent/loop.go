package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// outcome is how a loop ended.
type outcome struct {
	status, answer, reason string
	tokens                 int
}

// loop runs the run's strategy.
func (s *Service) loop(lr *liveRun, p *prepared) outcome {
	switch p.spec.Strategy {
	case StrategyReAct:
		return s.react(lr, p)
	case StrategyPlugin:
		return s.viaPlugin(lr, p)
	}
	return s.functionCalling(lr, p)
}

// functionCalling is Dify's function-calling agent runner: the model is
// offered the tools; each turn's tool calls run and their observations
// go back as tool messages, until a turn asks for none (its text is the
// answer) or the iteration limit.
func (s *Service) functionCalling(lr *liveRun, p *prepared) outcome {
	msgs := p.opening(p.spec.Instructions)
	var out outcome
	for n := 1; n <= p.spec.MaxIterations; n++ {
		st := s.startStep(lr, n)
		res, err := s.turn(lr, p, st, msgs, p.schemas, nil)
		if err != nil {
			return s.failStep(lr, p, st, out, err)
		}
		out.tokens += tokensOf(res)
		if len(res.ToolCalls) == 0 {
			s.endStep(lr, p, st)
			out.status, out.answer = store.RunDone, res.Text
			return out
		}
		calls := make([]protocol.ToolCall, len(res.ToolCalls))
		for i, tc := range res.ToolCalls {
			tc.ID, tc.Type = cmp.Or(tc.ID, fmt.Sprintf("call_%d_%d", n, i)), "function"
			calls[i] = tc
			st.Calls = append(st.Calls, &ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments, Status: CallRunning})
		}
		if n == p.spec.MaxIterations {
			return s.limit(lr, p, st, out)
		}
		s.runCalls(lr, p, st)
		msgs = append(msgs, protocol.PromptMessage{Role: protocol.RoleAssistant, Content: protocol.Content{Text: res.Text}, ToolCalls: calls})
		for _, c := range st.Calls {
			msgs = append(msgs, protocol.PromptMessage{Role: protocol.RoleTool, Content: protocol.Content{Text: c.Observation},
				ToolCallID: c.ID, Name: c.Name})
		}
		s.endStep(lr, p, st)
		if lr.ctx.Err() != nil {
			out.status, out.reason = store.RunCancelled, "Cancelled."
			return out
		}
	}
	return out // not reached: the last iteration answers or stops at the limit
}

// opening is the conversation's start: the instructions as the system
// prompt, the earlier turns, then the user's message.
func (p *prepared) opening(system string) []protocol.PromptMessage {
	var msgs []protocol.PromptMessage
	if system != "" {
		msgs = append(msgs, protocol.PromptMessage{Role: protocol.RoleSystem, Content: protocol.Content{Text: system}})
	}
	for _, t := range p.spec.History {
		msgs = append(msgs, protocol.PromptMessage{Role: t.Role, Content: protocol.Content{Text: t.Text}})
	}
	return append(msgs, protocol.PromptMessage{Role: protocol.RoleUser, Content: protocol.Content{Text: p.spec.Query}})
}

// activeStep is a step being made, with when it started and the time its
// model call spent in the agent's own callbacks.
type activeStep struct {
	*Step
	start time.Time
}

func (s *Service) startStep(lr *liveRun, n int) *activeStep {
	lr.emit(Event{Type: EventStep, Step: n})
	return &activeStep{Step: &Step{N: n}, start: time.Now()}
}

// turn is one model call of the step; its text streams to the followers.
// The model's time excludes the time spent handing its text on.
func (s *Service) turn(lr *liveRun, p *prepared, st *activeStep, msgs []protocol.PromptMessage,
	tools []protocol.PromptMessageTool, stop []string) (*models.TurnResult, error) {
	var own time.Duration
	start := time.Now()
	res, err := s.models.Turn(lr.ctx, p.caller.Username, models.TurnRequest{Model: p.spec.Model, Messages: msgs, Tools: tools,
		Stop: stop, Parameters: p.spec.Parameters, Resolved: p.model}, func(text string) error {
		t := time.Now()
		st.Text += text
		lr.emit(Event{Type: EventText, Step: st.N, Text: text})
		own += time.Since(t)
		return nil
	})
	st.ModelMS = ms(time.Since(start) - own)
	if err != nil {
		return nil, err
	}
	st.FinishReason, st.Usage = res.FinishReason, usageOf(res.Usage)
	return res, nil
}

func tokensOf(res *models.TurnResult) int {
	if res.Usage == nil {
		return 0
	}
	return res.Usage.TotalTokens
}

// endStep records the step with its timings and tells the followers.
func (s *Service) endStep(lr *liveRun, p *prepared, st *activeStep) {
	st.TookMS = ms(time.Since(st.start))
	st.LoopMS = max(st.TookMS-st.ModelMS-st.ToolsMS, 0)
	b, err := json.Marshal(st.Step)
	if err == nil {
		err = s.store.SaveAgentStep(context.Background(), p.run.ID, st.N, b)
	}
	if err != nil {
		s.log.Error("agent: record step", "run", p.run.ID, "step", st.N, "err", err)
	}
	lr.emit(Event{Type: EventStepDone, Step: st.N, StepInfo: st.Step})
}

// failStep ends the run at a model's failure (or a cancel).
func (s *Service) failStep(lr *liveRun, p *prepared, st *activeStep, out outcome, err error) outcome {
	st.Error = "The model failed: " + plugboard.ErrorMessage(err)
	if lr.ctx.Err() != nil {
		st.Error = "Cancelled."
	}
	s.endStep(lr, p, st)
	out.status, out.reason = store.RunFailed, st.Error
	return out
}

// limit ends the run at the iteration limit: the last turn's calls are
// recorded, not run.
func (s *Service) limit(lr *liveRun, p *prepared, st *activeStep, out outcome) outcome {
	var names []string
	for _, c := range st.Calls {
		c.Status, c.Error = CallSkipped, "Not run: the iteration limit was reached."
		names = append(names, c.Name)
	}
	st.Error = fmt.Sprintf("Stopped at the iteration limit (%d): the model still asked for %s. Raise Maximum iterations to let it go on.",
		p.spec.MaxIterations, strings.Join(names, ", "))
	s.endStep(lr, p, st)
	out.status, out.reason = store.RunFailed, st.Error
	return out
}

// runCalls runs the step's tool calls, parallelCalls at a time: calls of
// one turn are independent (the model asked for them together), so the
// step takes as long as its slowest call, not their sum. Observations stay
// in the model's order. The step's tool time is each wave's slowest call.
func (s *Service) runCalls(lr *liveRun, p *prepared, st *activeStep) {
	for i := 0; i < len(st.Calls); i += parallelCalls {
		wave := st.Calls[i:min(i+parallelCalls, len(st.Calls))]
		took := make([]time.Duration, len(wave))
		var wg sync.WaitGroup
		for j, c := range wave {
			wg.Add(1)
			go func() {
				defer wg.Done()
				took[j] = s.call(lr, p, st.N, c)
			}()
		}
		wg.Wait()
		var slowest time.Duration
		for _, d := range took {
			slowest = max(slowest, d)
		}
		st.ToolsMS += ms(slowest)
	}
}

// call runs one tool call through app/invoke and sets its observation;
// it returns the tool's own time (the invocation's). Whatever goes wrong
// — an unknown tool, arguments that are not a JSON object, parameters the
// tool refuses, a crash, a timeout, output that does not decode — becomes
// an error observation the model reads.
func (s *Service) call(lr *liveRun, p *prepared, n int, c *ToolCall) time.Duration {
	t := p.tools[c.Name]
	if t != nil {
		c.PluginID, c.Provider, c.Tool = t.ref.PluginID, t.ref.Provider, t.ref.Tool
	}
	lr.emit(Event{Type: EventToolCall, Step: n, Call: c.snapshot()})
	defer func() { lr.emit(Event{Type: EventToolResult, Step: n, Call: c.snapshot()}) }()
	if t == nil {
		c.fail(fmt.Sprintf("there is not a tool named %s; the tools are: %s", c.Name, strings.Join(p.names, ", ")))
		return 0
	}
	args, err := parseArgs(c.Arguments)
	if err != nil {
		c.fail("tool parameters validation error: " + err.Error() + ", please send the arguments as a JSON object")
		return 0
	}
	ctx, cancel := context.WithTimeout(lr.ctx, s.cfg.ToolTimeout)
	defer cancel()
	start := time.Now()
	run, err := s.invoke.Call(ctx, invoke.Request{Caller: p.caller, PluginID: t.ref.PluginID, Provider: t.ref.Provider,
		Tool: t.ref.Tool, Params: args, CredentialID: t.ref.CredentialID}, func(m *client.Message) {
		if m.Type == client.MessageCallBack && m.CallBack != nil {
			cb := CallBack{Type: m.CallBack.Type, Outcome: m.CallBack.Outcome, Error: m.CallBack.Error, TookMS: float64(m.CallBack.DurationMs)}
			c.CallBacks = append(c.CallBacks, cb)
			lr.emit(Event{Type: EventCallBack, Step: n, Call: &ToolCall{ID: c.ID, Name: c.Name}, CallBack: &cb})
			return
		}
		lr.emit(Event{Type: EventToolOutput, Step: n, Call: &ToolCall{ID: c.ID, Name: c.Name}, Output: outputOf(m)})
	})
	took := time.Since(start)
	c.TookMS = ms(took)
	var pr *invoke.Problems
	switch {
	case errors.As(err, &pr):
		c.fail("tool parameters validation error: " + pr.Error() + " Please check your tool parameters.")
	case err != nil:
		c.fail("tool invoke error: " + plugboard.ErrorMessage(err))
	default:
		s.observe(ctx, c, run)
	}
	return took
}

// observe turns a finished tool run into the call's observation, as
// Dify's tool engine does (invoke.Observation: text, JSON, links and
// images as sentences), its files kept as links to the run's files.
func (s *Service) observe(ctx context.Context, c *ToolCall, run *store.Run) {
	c.RunID = run.ID
	evs, err := s.store.RunEvents(context.WithoutCancel(ctx), run.ID, 0)
	if err != nil {
		c.fail("tool invoke error: its output could not be read back")
		return
	}
	for _, ev := range evs {
		var pl invoke.Payload
		_ = json.Unmarshal(ev.Payload, &pl) // as invoke.Observation reads it: what does not decode is left out
		switch ev.Type {
		case protocol.MessageBlob:
			c.Files = append(c.Files, File{Name: cmp.Or(pl.Filename, fmt.Sprintf("file-%d", ev.Seq)), MIME: pl.MIME,
				URL: fmt.Sprintf("/playground/runs/%s/files/%d", run.ID, ev.Seq)})
		case protocol.MessageLink, protocol.MessageImageLink, "binary_link":
			// A link the tool made is kept as a link to show (never
			// fetched or shown inline): only web addresses.
			if u, err := url.Parse(pl.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				c.Files = append(c.Files, File{Name: pl.Link, URL: u.String()})
			}
		}
	}
	c.Observation = invoke.Observation(evs)
	switch {
	case run.Status == store.RunDone:
		c.Status = CallDone
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		c.fail(fmt.Sprintf("tool invoke error: %s did not answer within %s", c.Name, s.cfg.ToolTimeout))
	case run.Status == store.RunCancelled:
		c.fail("tool invoke error: cancelled")
	default:
		c.fail("tool invoke error: " + run.Error)
	}
}

// fail marks the call failed; the error is its observation, after any
// output it made.
func (c *ToolCall) fail(msg string) {
	c.Status, c.Error = CallError, msg
	c.Observation = strings.TrimSpace(c.Observation + "\n" + msg)
}

// snapshot is a copy for an event (the call goes on changing).
func (c *ToolCall) snapshot() *ToolCall {
	cp := *c
	cp.Files = append([]File(nil), c.Files...)
	cp.CallBacks = append([]CallBack(nil), c.CallBacks...)
	return &cp
}

// parseArgs reads a call's arguments: a JSON object (nothing at all is
// none).
func parseArgs(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]any{}, nil
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return nil, fmt.Errorf("the arguments are not a JSON object (%v)", err)
	}
	if args == nil {
		args = map[string]any{}
	}
	return args, nil
}

func outputOf(m *client.Message) *Output {
	return &Output{Type: m.Type, Text: cmp.Or(m.Text, m.Link), JSON: m.JSON, Filename: m.Filename, MIME: m.MIME, Size: len(m.Blob)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
