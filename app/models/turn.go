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

// TurnRequest is one LLM turn in full: the model, the prompt messages as
// Dify sends them (system, user, assistant with tool calls, tool results),
// the tools the model may call, stop words and the model's parameters.
type TurnRequest struct {
	Model      ModelRef
	Messages   []protocol.PromptMessage
	Tools      []protocol.PromptMessageTool
	Stop       []string
	Parameters map[string]any
	// Resolved, when set, is Model's credentials as Credentials returned
	// them, so a caller making many turns resolves them once.
	Resolved *Resolved
	// OnChunk, when set, is handed each chunk as the plugin sent it (not
	// redacted), before its text goes to onText: for a plugin calling back,
	// which gets Dify's chunks. Its error stops the turn and is returned.
	OnChunk func(*protocol.LLMResultChunk) error
}

// TurnResult is how a turn ended: the text, the tool calls the model asked
// for (whole: the SDK and Dify's plugins send each call complete), the
// finish reason, usage and time.
type TurnResult struct {
	Text         string
	ToolCalls    []protocol.ToolCall
	FinishReason string
	Usage        *protocol.LLMUsage
	// First is from the call to the first piece of text (0 when none
	// came), Took to the answer's end.
	First time.Duration
	Took  time.Duration
}

// Turn asks an LLM for its next message with the model's credentials
// (Credentials), streaming: onText is called with each piece of text as it
// arrives, the model's secrets redacted even across pieces, and the tool
// calls are collected (their arguments redacted too). It returns when the
// answer ends, ctx is cancelled or onText fails.
func (s *Service) Turn(ctx context.Context, actor string, req TurnRequest, onText func(string) error) (*TurnResult, error) {
	r := req.Resolved
	if r == nil {
		var err error
		if r, err = s.Credentials(ctx, req.Model.PluginID, req.Model.Provider, plugboard.ModelLLM, req.Model.Model); err != nil {
			return nil, err
		}
	}
	res, err := s.turn(ctx, actor, r, req, onText)
	var stopped errStopped
	if errors.As(err, &stopped) {
		return nil, stopped.error // onText's own error, as it gave it
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// turn is the one loop over an LLM's streamed answer, for Turn and Chat:
// it sends the request with r's credentials and reads every chunk, the
// text handed to onText through the secrets' streaming redactor, tool
// calls, usage and finish reason collected. The result holds what arrived
// even when it fails; an onText failure is an errStopped.
func (s *Service) turn(ctx context.Context, actor string, r *Resolved, req TurnRequest, onText func(string) error) (*TurnResult, error) {
	params := req.Parameters
	if params == nil {
		params = map[string]any{}
	}
	stream := true
	start := time.Now()
	res := &TurnResult{}
	defer func() { res.Took = time.Since(start) }()
	st, err := s.daemon.InvokeLLM(ctx, r.PluginID, apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: plugboard.ModelLLM, Model: r.Model, PromptMessages: req.Messages,
			ModelParameters: params, Tools: req.Tools, Stop: req.Stop, Stream: &stream}}, actor)
	if err != nil {
		return res, s.redacted(err, r.Secrets)
	}
	defer st.Close()
	red := secret.NewRedactor(r.Secrets...)
	emit := func(text string) error {
		if text == "" {
			return nil
		}
		res.Text += text
		if err := onText(text); err != nil {
			return errStopped{err}
		}
		return nil
	}
	for {
		ch, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, s.redacted(err, r.Secrets)
		}
		if req.OnChunk != nil {
			if err := req.OnChunk(ch); err != nil {
				return res, errStopped{err}
			}
		}
		text := contentText(ch.Delta.Message.Content)
		if text != "" && res.First == 0 {
			res.First = time.Since(start)
		}
		if err := emit(red.Stream(text)); err != nil {
			return res, err
		}
		for _, tc := range ch.Delta.Message.ToolCalls {
			tc.Function.Name, tc.Function.Arguments = red.String(tc.Function.Name), red.String(tc.Function.Arguments)
			res.ToolCalls = append(res.ToolCalls, tc)
		}
		if ch.Delta.Usage != nil {
			res.Usage = ch.Delta.Usage
		}
		if ch.Delta.FinishReason != "" {
			res.FinishReason = ch.Delta.FinishReason
		}
	}
	return res, emit(red.Flush())
}

// ToolCalls reports whether the resolved model declares Dify's tool-call
// feature (a customizable model declares none here, so an agent prompts it
// ReAct-style).
func (r *Resolved) ToolCalls() bool {
	if r.Declaration == nil {
		return false
	}
	for _, f := range r.Declaration.Features {
		if f == plugboard.FeatureToolCall || f == plugboard.FeatureMultiToolCall || f == plugboard.FeatureStreamToolCall {
			return true
		}
	}
	return false
}
