package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// Strategies: the built-in loops.
const (
	// StrategyAuto picks function calling for a model that declares tool
	// calls, else ReAct.
	StrategyAuto            = ""
	StrategyFunctionCalling = "function_calling"
	StrategyReAct           = "react"
)

// Iteration limits, and how many earlier turns a run carries.
const (
	DefaultIterations = 5
	MaxIterations     = 50
	MaxHistory        = 20
)

// ToolRef is one tool the agent may call, with the provider's credential
// to call it with (0: the provider's default, if any).
type ToolRef struct {
	PluginID     string `json:"plugin_id"`
	Provider     string `json:"provider"`
	Tool         string `json:"tool"`
	CredentialID int64  `json:"credential_id,omitempty"`
}

// Key names the ref as one form value (plugin:provider:tool, as the tool
// playground's picker does).
func (t ToolRef) Key() string { return t.PluginID + ":" + t.Provider + ":" + t.Tool }

// Spec is what an agent run is made of, as recorded (no secrets: the
// credentials are named by id).
type Spec struct {
	Model        models.ModelRef `json:"model"`
	Tools        []ToolRef       `json:"tools"`
	Instructions string          `json:"instructions,omitempty"`
	// History is the conversation so far (user and assistant turns, the
	// earlier runs' messages and answers), before Query.
	History []models.ChatTurn `json:"history,omitempty"`
	Query   string            `json:"query"`
	// MaxIterations bounds the model turns (0: DefaultIterations).
	MaxIterations int `json:"max_iterations"`
	// Strategy is the loop (StrategyAuto picks); recorded as picked.
	Strategy string `json:"strategy"`
	// Plugin is the agent-strategy plugin's strategy run with
	// StrategyPlugin.
	Plugin     *StrategyRef   `json:"plugin,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// Request is one agent run for a user.
type Request struct {
	invoke.Caller
	Spec
}

// prepared is a checked, recorded run ready to loop.
type prepared struct {
	run    *store.AgentRun
	spec   Spec
	caller invoke.Caller
	model  *models.Resolved
	// tools by the name the model calls them, names in the spec's order.
	tools   map[string]*agentTool
	names   []string
	schemas []protocol.PromptMessageTool
}

// agentTool is a tool as the model sees it and as it is invoked.
type agentTool struct {
	ref  ToolRef
	name string
	decl plugboard.Tool
}

// prepare checks the request (message, model, strategy, tools and their
// credentials) and records the run.
func (s *Service) prepare(ctx context.Context, req Request) (*prepared, error) {
	sp := req.Spec
	sp.Query = strings.TrimSpace(sp.Query)
	if sp.Query == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Write a message for the agent first.")
	}
	if len(sp.History) > MaxHistory {
		sp.History = sp.History[len(sp.History)-MaxHistory:]
	}
	for _, t := range sp.History {
		if t.Role != protocol.RoleUser && t.Role != protocol.RoleAssistant {
			return nil, plugboard.Errorf(plugboard.EINVALID, "A conversation turn is the user's or the assistant's, not %q.", t.Role)
		}
	}
	if sp.MaxIterations == 0 {
		sp.MaxIterations = DefaultIterations
	}
	if sp.MaxIterations < 1 || sp.MaxIterations > MaxIterations {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Maximum iterations is between 1 and %d, not %d.", MaxIterations, sp.MaxIterations)
	}
	m, err := s.models.Credentials(ctx, sp.Model.PluginID, sp.Model.Provider, plugboard.ModelLLM, sp.Model.Model)
	if err != nil {
		return nil, err
	}
	sp.Model = m.ModelRef
	switch sp.Strategy {
	case StrategyAuto:
		sp.Strategy = StrategyReAct
		if m.ToolCalls() {
			sp.Strategy = StrategyFunctionCalling
		}
	case StrategyFunctionCalling:
		if !m.ToolCalls() {
			return nil, plugboard.Errorf(plugboard.EINVALID, "%s does not declare tool calls; use the ReAct strategy with it.", m.Label)
		}
	case StrategyReAct:
	case StrategyPlugin:
		if err := s.checkPlugin(ctx, &sp); err != nil {
			return nil, err
		}
	default:
		return nil, plugboard.Errorf(plugboard.EINVALID, "There is no agent strategy %q: use %s, %s or an agent strategy plugin.",
			sp.Strategy, StrategyFunctionCalling, StrategyReAct)
	}
	if sp.Strategy != StrategyPlugin {
		sp.Plugin = nil
	}
	p := &prepared{spec: sp, caller: req.Caller, model: m, tools: map[string]*agentTool{}}
	if err := s.addTools(ctx, p); err != nil {
		return nil, err
	}
	spec, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	p.run = &store.AgentRun{UserID: req.UserID, Username: req.Username, Spec: spec}
	if err := s.store.CreateAgentRun(ctx, p.run); err != nil {
		return nil, err
	}
	return p, nil
}

// addTools finds each tool and checks its credential is its provider's;
// tools of the same name in two providers are called provider__tool.
func (s *Service) addTools(ctx context.Context, p *prepared) error {
	seen, count := map[string]bool{}, map[string]int{}
	for _, ref := range p.spec.Tools {
		count[ref.Tool]++
	}
	for _, ref := range p.spec.Tools {
		if seen[ref.Key()] {
			return plugboard.Errorf(plugboard.EINVALID, "%s is picked twice.", ref.Tool)
		}
		seen[ref.Key()] = true
		t, err := s.invoke.FindTool(ctx, ref.PluginID, ref.Provider, ref.Tool)
		if err != nil {
			return err
		}
		if ref.CredentialID != 0 && !hasCredential(t, ref.CredentialID) {
			return plugboard.Errorf(plugboard.EINVALID, "%s has no credential %d for %s.", ref.Provider, ref.CredentialID, ref.Tool)
		}
		name := ref.Tool
		if count[ref.Tool] > 1 {
			name = ref.Provider + "__" + ref.Tool
		}
		at := &agentTool{ref: ref, name: name, decl: t.Declaration}
		p.tools[name], p.names = at, append(p.names, name)
		p.schemas = append(p.schemas, at.schema())
	}
	return nil
}

func hasCredential(t *invoke.Tool, id int64) bool {
	for _, c := range t.Credentials {
		if c.ID == id {
			return true
		}
	}
	return false
}

// schema is the tool as the model is offered it (Dify's PromptMessageTool
// from the tool's parameters of form llm, files left out: a model cannot
// send a file).
func (t *agentTool) schema() protocol.PromptMessageTool {
	return protocol.PromptMessageTool{Name: t.name, Description: invoke.ToolDescription(t.decl), Parameters: invoke.InputSchema(t.decl, false)}
}

// describe is the tool for a ReAct prompt: its name, description and
// arguments' schema.
func (t *agentTool) describe() string {
	s := t.schema()
	b, _ := json.Marshal(s.Parameters) // maps of strings: always encodes
	return fmt.Sprintf("%s: %s, args: %s", t.name, s.Description, b)
}

// Decode reads a spec as a run records it.
func (sp *Spec) Decode(raw []byte) error { return json.Unmarshal(raw, sp) }

// DecodeSteps reads a run's recorded steps.
func DecodeSteps(raws []json.RawMessage) ([]Step, error) {
	out := make([]Step, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return out, nil
}

// Continued is the spec of a run continuing this one's conversation: its
// history with its message and answer added, the given message next.
func (sp Spec) Continued(answer, query string) Spec {
	next := sp
	next.History = append(append([]models.ChatTurn(nil), sp.History...), models.ChatTurn{Role: protocol.RoleUser, Text: sp.Query})
	if answer != "" {
		next.History = append(next.History, models.ChatTurn{Role: protocol.RoleAssistant, Text: answer})
	}
	next.Query = query
	return next
}
