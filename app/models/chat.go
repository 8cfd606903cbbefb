package models

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
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
	r, err := s.Credentials(ctx, req.Model.PluginID, req.Model.Provider, plugboard.ModelLLM, req.Model.Model)
	if err != nil {
		return nil, err
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
	params := req.Parameters
	if params == nil {
		params = map[string]any{}
	}
	stream := true
	start := time.Now()
	st, err := s.daemon.InvokeLLM(ctx, r.PluginID, apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: plugboard.ModelLLM, Model: r.Model, PromptMessages: msgs,
			ModelParameters: params, Stream: &stream}}, actor)
	if err != nil {
		return nil, s.redacted(err, r.Secrets)
	}
	defer st.Close()
	red := secret.NewRedactor(r.Secrets...)
	res := &ChatResult{}
	emit := func(text string) error {
		if text == "" {
			return nil
		}
		res.Text += text
		return onText(text)
	}
	for {
		ch, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.redacted(err, r.Secrets)
		}
		if err := emit(red.Stream(contentText(ch.Delta.Message.Content))); err != nil {
			return nil, err
		}
		if ch.Delta.Usage != nil {
			res.Usage = ch.Delta.Usage
		}
		if ch.Delta.FinishReason != "" {
			res.FinishReason = ch.Delta.FinishReason
		}
	}
	if err := emit(red.Flush()); err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
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
