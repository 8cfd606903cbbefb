package models

import (
	"context"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// ChatTurn is one message of a chat: its role (user or assistant) and
// text.
type ChatTurn struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// ChatRequest is a chat with an LLM: the model, an optional system prompt,
// the turns so far (the last one the user's) and the model's parameters.
type ChatRequest struct {
	Model      ModelRef
	System     string
	Turns      []ChatTurn
	Parameters map[string]any
	// RawParameters are parameters as typed into a form, by rule name:
	// read with ParseParameters against the model's rules (a customizable
	// model's from its schema) and added to Parameters.
	RawParameters map[string]string
	// User, when set, records the turn in the user's chat history: in
	// ChatID (one of the user's own chats), else in a new chat.
	User   *store.User
	ChatID string
	// OnChat, when set, is told the recorded chat's id before the answer
	// starts (so a caller that stops the answer can still continue it).
	OnChat func(id string) error
}

// ChatResult is how a chat's answer ended.
type ChatResult struct {
	// ChatID is the recorded chat's ("" when not recorded).
	ChatID       string
	Text         string
	FinishReason string
	Usage        *protocol.LLMUsage
	// Price is the turn's (PriceOf), nil when the model is not priced.
	Price *Price
	// First is from the call to the first piece of the answer (0 when none
	// came), Took to the answer's end.
	First time.Duration
	Took  time.Duration
	// Parameters are the model parameters sent.
	Parameters map[string]any
}

// chatCall is a chat turn ready to send: the model resolved, its
// declaration (nil when the plugin describes none), the prompt, the
// parameters and the chat it is recorded in (nil: none).
type chatCall struct {
	r       *Resolved
	decl    *plugboard.ModelDeclaration
	msgs    []protocol.PromptMessage
	params  map[string]any
	chat    *store.Chat
	message string // the user's message, secrets redacted
	system  string // the system prompt, secrets redacted
}

// errStopped marks an answer its caller stopped taking (onText failed).
type errStopped struct{ error }

// Chat asks an LLM for the next turn with the model's credentials
// (Credentials), streaming: onText is called with each piece of the answer
// as it arrives, the model's secrets redacted even across pieces. It
// returns when the answer ends, ctx is cancelled or onText fails. With a
// User, the turn — message, answer so far, how it ended, usage, price and
// latency — is recorded in the user's chat history whatever the ending.
func (s *Service) Chat(ctx context.Context, actor string, req ChatRequest, onText func(string) error) (*ChatResult, error) {
	call, err := s.prepareChat(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	var res *ChatResult
	if call.chat != nil && req.OnChat != nil {
		if err = req.OnChat(call.chat.ID); err != nil {
			res, err = &ChatResult{ChatID: call.chat.ID, Parameters: call.params}, errStopped{err}
		}
	}
	if err == nil {
		res, err = s.streamChat(ctx, actor, call, onText)
	}
	s.recordTurn(ctx, call, res, err)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// prepareChat checks the request, resolves the model and its parameters,
// builds the prompt and opens (or creates) the chat it is recorded in.
func (s *Service) prepareChat(ctx context.Context, actor string, req ChatRequest) (*chatCall, error) {
	if len(req.Turns) == 0 || req.Turns[len(req.Turns)-1].Role != protocol.RoleUser || req.Turns[len(req.Turns)-1].Text == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Write a message first.")
	}
	r, err := s.Credentials(ctx, req.Model.PluginID, req.Model.Provider, plugboard.ModelLLM, req.Model.Model)
	if err != nil {
		return nil, err
	}
	call := &chatCall{r: r, params: map[string]any{}}
	if call.msgs, err = prompt(req); err != nil {
		return nil, err
	}
	if call.decl, err = s.schema(ctx, actor, r); err != nil {
		s.log.Warn("model schema", "plugin", r.PluginID, "model", r.Model, "err", err)
	}
	for k, v := range req.Parameters {
		call.params[k] = v
	}
	if call.decl != nil {
		parsed, err := ParseParameters(call.decl.ParameterRules, req.RawParameters)
		if err != nil {
			return nil, err
		}
		for k, v := range parsed {
			call.params[k] = v
		}
	}
	red := secret.NewRedactor(r.Secrets...)
	call.message, call.system = red.String(req.Turns[len(req.Turns)-1].Text), red.String(req.System)
	if req.User != nil {
		if call.chat, err = s.openChat(ctx, req, r, call.system); err != nil {
			return nil, err
		}
	}
	return call, nil
}

// prompt is the request's system prompt and turns as prompt messages.
func prompt(req ChatRequest) ([]protocol.PromptMessage, error) {
	var msgs []protocol.PromptMessage
	if req.System != "" {
		msgs = append(msgs, protocol.PromptMessage{Role: protocol.RoleSystem, Content: protocol.Content{Text: req.System}})
	}
	for _, t := range req.Turns {
		if t.Role != protocol.RoleUser && t.Role != protocol.RoleAssistant {
			return nil, plugboard.Errorf(plugboard.EINVALID, "A chat turn is the user's or the assistant's, not %q.", t.Role)
		}
		msgs = append(msgs, protocol.PromptMessage{Role: t.Role, Content: protocol.Content{Text: t.Text}})
	}
	return msgs, nil
}

// streamChat sends the turn through the one LLM loop (turn) and prices
// it; the result holds what arrived even when it fails.
func (s *Service) streamChat(ctx context.Context, actor string, call *chatCall, onText func(string) error) (*ChatResult, error) {
	tr, err := s.turn(ctx, actor, call.r, TurnRequest{Messages: call.msgs, Parameters: call.params}, onText)
	res := &ChatResult{Parameters: call.params, Text: tr.Text, FinishReason: tr.FinishReason, Usage: tr.Usage,
		First: tr.First, Took: tr.Took}
	if call.chat != nil {
		res.ChatID = call.chat.ID
	}
	if err != nil {
		return res, err
	}
	var pricing *plugboard.Pricing
	if call.decl != nil {
		pricing = call.decl.Pricing
	}
	res.Price = PriceOf(pricing, res.Usage)
	return res, nil
}

// redacted is err as a caller may see it: its message with the model's
// secrets redacted, its code kept.
func (s *Service) redacted(err error, secrets []string) error {
	return plugboard.Errorf(plugboard.ErrorCode(err), "%s", secret.NewRedactor(secrets...).String(plugboard.ErrorMessage(err)))
}

// contentText is a message's text: its string, or its text parts joined.
func contentText(c protocol.Content) string {
	if c.Parts == nil {
		return c.Text
	}
	var out string
	for _, p := range c.Parts {
		if p.Type == protocol.PartText {
			out += p.Data
		}
	}
	return out
}
