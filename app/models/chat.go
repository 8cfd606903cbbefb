package models

import (
	"context"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
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
}

// ChatResult is how a chat's answer ended.
type ChatResult struct {
	Text         string
	FinishReason string
	Usage        *protocol.LLMUsage
	// Took is from the call to the answer's end.
	Took time.Duration
}

// Chat asks an LLM for the next turn with the model's credentials
// (Credentials), streaming: onText is called with each piece of the answer
// as it arrives, the model's secrets redacted even across pieces. It
// returns when the answer ends, ctx is cancelled or onText fails.
func (s *Service) Chat(ctx context.Context, actor string, req ChatRequest, onText func(string) error) (*ChatResult, error) {
	if len(req.Turns) == 0 || req.Turns[len(req.Turns)-1].Role != protocol.RoleUser || req.Turns[len(req.Turns)-1].Text == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Write a message first.")
	}
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
	res, err := s.Turn(ctx, actor, TurnRequest{Model: req.Model, Messages: msgs, Parameters: req.Parameters}, onText)
	if err != nil {
		return nil, err
	}
	return &ChatResult{Text: res.Text, FinishReason: res.FinishReason, Usage: res.Usage, Took: res.Took}, nil
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
