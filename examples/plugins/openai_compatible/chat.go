package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"

	"github.com/plugboard/plugboard/sdk"
)

// chat is the provider's LLM: /chat/completions, always streamed.
type chat struct{ cl *upstream }

// chatParameters are the model parameters passed on to the server (those
// the model's schema declares).
var chatParameters = []string{"temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty"}

// InvokeLLM streams the server's answer: text as it comes, tool calls
// whole at the end (as Dify's SDK sends them), then the usage the server
// reports, or an estimate when it reports none.
func (m *chat) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	cfg, err := readConfig(&req.ModelRequest)
	if err != nil {
		return err
	}
	res, err := m.cl.streamChat(ctx, cfg, chatBody(cfg, req), w.Text)
	if err != nil {
		return err
	}
	if len(res.calls) > 0 {
		if err := w.ToolCalls(res.calls...); err != nil {
			return err
		}
	}
	if res.usage == nil {
		return nil // the SDK finishes with an estimate
	}
	return w.Finish(res.finish, sdk.LLMUsage{PromptTokens: res.usage.PromptTokens, CompletionTokens: res.usage.CompletionTokens})
}

// ValidateModelCredentials asks the model for one token.
func (m *chat) ValidateModelCredentials(ctx context.Context, req *sdk.ModelRequest) error {
	cfg, err := readConfig(req)
	if err != nil {
		return credentialsError(err)
	}
	body := map[string]any{"model": cfg.model, "stream": true, "max_tokens": 1,
		"messages": []map[string]any{{"role": "user", "content": "ping"}}}
	_, err = m.cl.streamChat(ctx, cfg, body, func(string) error { return nil })
	return credentialsError(err)
}

// credentialsError turns an invoke error into the credential check's.
func credentialsError(err error) error {
	var e *sdk.Error
	if errors.As(err, &e) {
		return sdk.Errorf(sdk.ErrTypeCredentialsValidateFailed, "%s", e.Message)
	}
	return err
}

// chatBody is the request body for the server.
func chatBody(cfg config, req *sdk.LLMRequest) map[string]any {
	msgs := make([]map[string]any, len(req.PromptMessages))
	for i, m := range req.PromptMessages {
		msgs[i] = openAIMessage(m, cfg.vision)
	}
	body := map[string]any{"model": cfg.model, "messages": msgs, "stream": true,
		"stream_options": map[string]any{"include_usage": true}}
	for _, name := range chatParameters {
		if v, ok := req.ModelParameters[name]; ok {
			body[name] = v
		}
	}
	if len(req.Stop) > 0 {
		body["stop"] = req.Stop
	}
	if cfg.toolCalls && len(req.Tools) > 0 {
		tools := make([]map[string]any, len(req.Tools))
		for i, t := range req.Tools {
			tools[i] = map[string]any{"type": "function", "function": t}
		}
		body["tools"] = tools
		if tc := req.ToolChoice; tc != nil && tc.Mode == sdk.ToolChoiceTool {
			body["tool_choice"] = map[string]any{"type": "function", "function": map[string]string{"name": tc.Name}}
		} else if tc != nil && tc.Mode != "" {
			body["tool_choice"] = tc.Mode
		}
	}
	return body
}

// openAIMessage is a prompt message in OpenAI's shape. Images are passed
// on only when the model has vision; other parts as their text.
func openAIMessage(m sdk.PromptMessage, vision bool) map[string]any {
	out := map[string]any{"role": m.Role, "content": sdk.MessageText(m)}
	if m.Content.Parts != nil && vision {
		parts := []map[string]any{}
		for _, p := range m.Content.Parts {
			switch {
			case p.Type == "text":
				parts = append(parts, map[string]any{"type": "text", "text": p.Data})
			case p.Type == "image" && p.URL != "":
				parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": p.URL, "detail": cmp.Or(p.Detail, "auto")}})
			case p.Type == "image" && p.Base64Data != "":
				parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{
					"url": "data:" + cmp.Or(p.MIMEType, "image/png") + ";base64," + p.Base64Data, "detail": cmp.Or(p.Detail, "auto")}})
			}
		}
		out["content"] = parts
	}
	if m.Name != "" {
		out["name"] = m.Name
	}
	if len(m.ToolCalls) > 0 {
		out["tool_calls"] = m.ToolCalls
	}
	if m.ToolCallID != "" {
		out["tool_call_id"] = m.ToolCallID
	}
	return out
}

// chatResult is what a streamed answer ends with.
type chatResult struct {
	calls  []sdk.ToolCall
	finish string
	usage  *openAIUsage
}

// openAIUsage is the usage object of OpenAI's answers.
type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// streamChunk is one server-sent chunk of a chat completion.
type streamChunk struct {
	Choices []struct {
		Delta struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *openAIUsage              `json:"usage"`
	Error *struct{ Message string } `json:"error"`
}

// streamChat posts body to /chat/completions and reads the server-sent
// events, passing each piece of text to text and collecting tool calls
// (sent in pieces by index) and the usage.
func (cl *upstream) streamChat(ctx context.Context, cfg config, body map[string]any, text func(string) error) (chatResult, error) {
	ex, err := cl.post(ctx, cfg, cfg.baseURL+"/chat/completions", body)
	if err != nil {
		return chatResult{}, err
	}
	defer ex.close()
	acc := &chatAccumulator{text: text, calls: map[int]*sdk.ToolCall{}}
	r := bufio.NewReaderSize(ex.resp.Body, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if err == io.EOF && ex.ctx.Err() == nil {
				return acc.result(), nil // a server that ends without [DONE]
			}
			return chatResult{}, ex.failed(err)
		}
		ex.alive()
		data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
		if !ok {
			continue // comments, event names, blank lines
		}
		if data = bytes.TrimSpace(data); string(data) == "[DONE]" {
			return acc.result(), nil
		}
		if err := acc.add(data, ex.url); err != nil {
			return chatResult{}, err
		}
	}
}

// chatAccumulator gathers a streamed answer chunk by chunk.
type chatAccumulator struct {
	text  func(string) error
	calls map[int]*sdk.ToolCall // by the index the server gives each call
	res   chatResult
}

// add takes one chunk's data: its text goes out at once, tool-call pieces
// are joined, usage and finish reason kept.
func (a *chatAccumulator) add(data []byte, from string) error {
	var ch streamChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return sdk.Errorf(sdk.ErrTypeInvokeModel, "%s sent a chunk that is not JSON: %v", from, err)
	}
	if ch.Error != nil {
		return sdk.Errorf(sdk.ErrTypeInvokeServerUnavailable, "%s (in the stream from %s)", ch.Error.Message, from)
	}
	if ch.Usage != nil {
		a.res.usage = ch.Usage
	}
	for _, c := range ch.Choices {
		if c.Delta.Content != "" {
			if err := a.text(c.Delta.Content); err != nil {
				return err
			}
		}
		for _, tc := range c.Delta.ToolCalls {
			call := a.calls[tc.Index]
			if call == nil {
				call = &sdk.ToolCall{Type: "function"}
				a.calls[tc.Index] = call
			}
			call.ID += tc.ID
			call.Function.Name += tc.Function.Name
			call.Function.Arguments += tc.Function.Arguments
		}
		if c.FinishReason != nil {
			a.res.finish = *c.FinishReason
		}
	}
	return nil
}

// result is the answer with its tool calls in the server's order.
func (a *chatAccumulator) result() chatResult {
	for _, i := range slices.Sorted(maps.Keys(a.calls)) {
		a.res.calls = append(a.res.calls, *a.calls[i])
	}
	return a.res
}
