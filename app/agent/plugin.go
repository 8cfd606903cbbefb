package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// StrategyPlugin runs an agent-strategy plugin's strategy (Spec.Plugin)
// instead of the built-in loops; it reaches the model and the tools by
// calling back into the platform.
const StrategyPlugin = "plugin"

// StrategyRef names an installed agent strategy: the plugin, its strategy
// provider and the strategy.
type StrategyRef struct {
	PluginID string `json:"plugin_id"`
	Provider string `json:"provider"`
	Strategy string `json:"strategy"`
	// Label is the strategy's English label with its provider's (not
	// recorded).
	Label string `json:"-"`
}

// Key names the ref as one form value.
func (r StrategyRef) Key() string {
	return StrategyPlugin + ":" + r.PluginID + ":" + r.Provider + ":" + r.Strategy
}

// ParseStrategyKey reads a StrategyRef.Key.
func ParseStrategyKey(key string) (StrategyRef, bool) {
	parts := strings.Split(key, ":")
	if len(parts) != 4 || parts[0] != StrategyPlugin || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return StrategyRef{}, false
	}
	return StrategyRef{PluginID: parts[1], Provider: parts[2], Strategy: parts[3]}, true
}

// Strategies lists the installed agent-strategy plugins' strategies.
func (s *Service) Strategies(ctx context.Context) ([]StrategyRef, error) {
	list, err := s.cfg.Daemon.List(ctx, 1, 256)
	if err != nil {
		return nil, err
	}
	var out []StrategyRef
	for _, in := range list.List {
		if in.Declaration == nil || in.Declaration.AgentStrategy == nil {
			continue
		}
		p := in.Declaration.AgentStrategy
		for _, st := range p.Strategies {
			out = append(out, StrategyRef{PluginID: in.PluginID, Provider: p.Identity.Name, Strategy: st.Identity.Name,
				Label: orName(st.Identity.Label.English(), st.Identity.Name) + " — " + orName(p.Identity.Label.English(), p.Identity.Name)})
		}
	}
	return out, nil
}

func orName(label, name string) string {
	if label == "" {
		return name
	}
	return label
}

// checkPlugin checks the spec's strategy plugin is installed with that
// strategy.
func (s *Service) checkPlugin(ctx context.Context, sp *Spec) error {
	if sp.Plugin == nil {
		return plugboard.Errorf(plugboard.EINVALID, "Pick the agent strategy plugin to run.")
	}
	if s.cfg.Daemon == nil {
		return plugboard.Errorf(plugboard.EUNAVAILABLE, "Agent strategy plugins are not available here.")
	}
	all, err := s.Strategies(ctx)
	if err != nil {
		return err
	}
	for _, r := range all {
		if r.PluginID == sp.Plugin.PluginID && r.Provider == sp.Plugin.Provider && r.Strategy == sp.Plugin.Strategy {
			return nil
		}
	}
	return plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has an agent strategy %s/%s.", sp.Plugin.PluginID, sp.Plugin.Provider, sp.Plugin.Strategy)
}

// strategyParams are the strategy's parameters as Dify sends them to its
// official strategies: the model as a model selector, the tools as tool
// entities (provider as plugin_id/provider, the credential by id),
// instruction, query and maximum_iterations.
func (p *prepared) strategyParams() map[string]any {
	params := p.spec.Parameters
	if params == nil {
		params = map[string]any{}
	}
	tools := make([]any, 0, len(p.names))
	for _, name := range p.names {
		t := p.tools[name]
		var cred any
		if t.ref.CredentialID != 0 {
			cred = strconv.FormatInt(t.ref.CredentialID, 10)
		}
		tools = append(tools, map[string]any{
			"identity": map[string]any{"author": t.decl.Identity.Author, "name": t.ref.Tool, "label": t.decl.Identity.Label,
				"provider": t.ref.PluginID + "/" + t.ref.Provider, "icon": nil},
			"parameters": t.decl.Parameters, "provider_type": "builtin", "runtime_parameters": map[string]any{},
			"credential_id": cred, "credential_type": protocol.CredentialAPIKey,
		})
	}
	return map[string]any{
		"model": map[string]any{"provider": p.spec.Model.PluginID + "/" + p.spec.Model.Provider, "model": p.spec.Model.Model,
			"model_type": plugboard.ModelLLM, "mode": "chat", "completion_params": params, "type": "model-selector",
			"history_prompt_messages": p.historyMessages(), "entity": nil},
		"tools": tools, "instruction": p.spec.Instructions, "query": p.spec.Query,
		"maximum_iterations": p.spec.MaxIterations, "context": []any{},
	}
}

// sessionContext is the strategy's session context as Dify fills it: each
// tool's credential id by its provider (plugin_id/provider, as the tool
// entities name it), which Dify's SDK uses when a tool call back names no
// credential.
func (p *prepared) sessionContext() json.RawMessage {
	creds := map[string]string{}
	for _, name := range p.names {
		if t := p.tools[name]; t.ref.CredentialID != 0 {
			creds[t.ref.PluginID+"/"+t.ref.Provider] = strconv.FormatInt(t.ref.CredentialID, 10)
		}
	}
	b, _ := json.Marshal(map[string]any{"credentials": map[string]any{"tool_credentials": creds}}) // strings only: cannot fail
	return b
}

// viaPlugin runs the strategy plugin and turns its messages into steps:
// each top-level log that starts (Dify's "ROUND n") begins a step, text is
// the step's text and the answer, other logs are noted in the step's
// text, a json message's execution_metadata gives the tokens.
func (s *Service) viaPlugin(lr *liveRun, p *prepared) outcome {
	var out outcome
	var st *activeStep
	var answer strings.Builder
	step := func() *activeStep {
		if st == nil {
			st = s.startStep(lr, 1)
		}
		return st
	}
	end := func() {
		if st != nil {
			st.ModelMS = ms(time.Since(st.start)) // the strategy's own time, model and tools included
			s.endStep(lr, p, st)
		}
	}
	ref := p.spec.Plugin
	stream, err := s.cfg.Daemon.InvokeAgentStrategy(client.WithCallBackEvents(lr.ctx), ref.PluginID,
		apispec.InvokeRequest[apispec.InvokeAgentStrategyData]{UserID: p.caller.Username, Context: p.sessionContext(),
			Data: apispec.InvokeAgentStrategyData{AgentStrategyProvider: ref.Provider, AgentStrategy: ref.Strategy,
				AgentStrategyParams: p.strategyParams()}})
	if err != nil {
		return s.failStep(lr, p, step(), out, err)
	}
	defer stream.Close()
	stop := context.AfterFunc(lr.ctx, func() { stream.Close() })
	defer stop()
	for {
		m, err := stream.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cur := step()
			cur.ModelMS = ms(time.Since(cur.start))
			return s.failStep(lr, p, cur, out, err)
		}
		s.pluginMessage(lr, p, m, &st, step, end, &answer, &out)
	}
	end()
	out.status, out.answer = store.RunDone, strings.TrimSpace(answer.String())
	return out
}

// pluginMessage takes one message of a strategy plugin into the run.
func (s *Service) pluginMessage(lr *liveRun, p *prepared, m *client.Message, st **activeStep, step func() *activeStep, end func(),
	answer *strings.Builder, out *outcome) {
	note := func(text string) {
		cur := step()
		cur.Text += text
		lr.emit(Event{Type: EventText, Step: cur.N, Text: text})
	}
	switch m.Type {
	case client.MessageCallBack: // the strategy reaching a model or a tool
		if cb := m.CallBack; cb != nil {
			cur := step()
			c := CallBack{Type: cb.Type, Outcome: cb.Outcome, Error: cb.Error, TookMS: float64(cb.DurationMs)}
			cur.CallBacks = append(cur.CallBacks, c)
			lr.emit(Event{Type: EventCallBack, Step: cur.N, CallBack: &c})
		}
	case protocol.MessageText:
		answer.WriteString(m.Text)
		note(m.Text)
	case protocol.MessageLog:
		if l := m.Log; l != nil && l.ParentID == "" && l.Status == "start" {
			n := 1
			if *st != nil {
				n = (*st).N + 1
				end()
			}
			*st = s.startStep(lr, n)
		} else if l != nil && l.Status == "error" {
			note(fmt.Sprintf("\n[%s: %s]\n", l.Label, l.Error))
		}
	case protocol.MessageJSON:
		if obj, ok := m.JSON.(map[string]any); ok {
			if meta, ok := obj["execution_metadata"].(map[string]any); ok {
				if n, ok := meta["total_tokens"].(float64); ok {
					out.tokens = int(n)
				}
			}
		}
	default:
		note(fmt.Sprintf("\n[%s %s]\n", m.Type, orName(m.Filename, m.Text)))
	}
}

// historyMessages are the earlier turns as Dify's prompt messages.
func (p *prepared) historyMessages() []protocol.PromptMessage {
	out := []protocol.PromptMessage{}
	for _, t := range p.spec.History {
		out = append(out, protocol.PromptMessage{Role: t.Role, Content: protocol.Content{Text: t.Text}})
	}
	return out
}
