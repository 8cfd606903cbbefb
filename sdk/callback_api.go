package sdk

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// Storage is the plugin's key-value storage in the invoking workspace,
// kept by the daemon (the manifest's resource.permission.storage must be
// enabled; its size is the quota).
type Storage struct{ s *Session }

// Storage returns the session's storage.
func (s *Session) Storage() *Storage { return &Storage{s} }

// Get returns the value stored under key (an error when there is none).
func (st *Storage) Get(ctx context.Context, key string) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := st.s.call(ctx, "storage", map[string]any{"opt": "get", "key": key}, &res); err != nil {
		return nil, err
	}
	return hex.DecodeString(res.Data)
}

// Set stores value under key.
func (st *Storage) Set(ctx context.Context, key string, value []byte) error {
	var res struct{}
	return st.s.call(ctx, "storage", map[string]any{"opt": "set", "key": key, "value": hex.EncodeToString(value)}, &res)
}

// Delete removes key.
func (st *Storage) Delete(ctx context.Context, key string) error {
	var res struct{}
	return st.s.call(ctx, "storage", map[string]any{"opt": "del", "key": key}, &res)
}

// Exist reports whether key holds a value.
func (st *Storage) Exist(ctx context.Context, key string) (bool, error) {
	var res struct {
		Data bool `json:"data"`
	}
	err := st.s.call(ctx, "storage", map[string]any{"opt": "exist", "key": key}, &res)
	return res.Data, err
}

// LLMCall is a call back to one of the workspace's LLMs (Dify's
// InvokeLLMRequest): Provider is the full author/plugin/provider name.
type LLMCall struct {
	Provider         string                       `json:"provider"`
	Model            string                       `json:"model"`
	Mode             string                       `json:"mode"` // chat (the default) or completion
	CompletionParams map[string]any               `json:"completion_params"`
	PromptMessages   []protocol.PromptMessage     `json:"prompt_messages"`
	Tools            []protocol.PromptMessageTool `json:"tools,omitempty"`
	Stop             []string                     `json:"stop,omitempty"`
	Stream           bool                         `json:"stream"`
}

// LLMStream is an LLM call back's answer, chunk by chunk.
type LLMStream struct{ cs *CallStream }

// Next returns the next chunk, io.EOF after the last.
func (l *LLMStream) Next() (*protocol.LLMResultChunk, error) {
	raw, err := l.cs.Next()
	if err != nil {
		return nil, err
	}
	var c protocol.LLMResultChunk
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("call back llm: decoding a chunk: %w", err)
	}
	return &c, nil
}

// Close stops reading.
func (l *LLMStream) Close() { l.cs.Close() }

// InvokeLLM calls back to an LLM.
func (s *Session) InvokeLLM(ctx context.Context, call LLMCall) (*LLMStream, error) {
	if call.Mode == "" {
		call.Mode = "chat"
	}
	if call.CompletionParams == nil {
		call.CompletionParams = map[string]any{}
	}
	// The call's members and model_type, encoded once (a round trip
	// through a map turned every number into a float64).
	req := struct {
		LLMCall
		ModelType string `json:"model_type"`
	}{call, "llm"}
	cs, err := s.Invoke(ctx, "llm", req)
	if err != nil {
		return nil, err
	}
	return &LLMStream{cs}, nil
}

// Summary asks the platform to summarise text with the workspace's
// default LLM (Dify's system_summary), following instruction when given.
func (s *Session) Summary(ctx context.Context, text, instruction string) (string, error) {
	var res struct {
		Summary string `json:"summary"`
	}
	err := s.call(ctx, "system_summary", map[string]any{"text": text, "instruction": instruction}, &res)
	return res.Summary, err
}

// TextEmbedding calls back to an embedding model: one vector per text.
// inputType is "document" or "query".
func (s *Session) TextEmbedding(ctx context.Context, provider, model string, texts []string, inputType string) (*protocol.TextEmbeddingResult, error) {
	var res protocol.TextEmbeddingResult
	err := s.call(ctx, "text_embedding", map[string]any{"provider": provider, "model": model, "model_type": "text-embedding",
		"texts": texts, "input_type": inputType}, &res)
	return &res, err
}

// ToolInvocation is a call back to another installed tool (Dify's
// InvokeToolRequest): ToolType builtin for a plugin's tool, Provider its
// provider's full name (author/plugin/provider).
type ToolInvocation struct {
	ToolType     string         `json:"tool_type"`
	Provider     string         `json:"provider"`
	Tool         string         `json:"tool"`
	Parameters   map[string]any `json:"tool_parameters"`
	CredentialID string         `json:"credential_id,omitempty"`
}

// ToolStream is a tool call back's answer, message by message.
type ToolStream struct{ cs *CallStream }

// Next returns the next tool message, io.EOF after the last.
func (t *ToolStream) Next() (*protocol.ToolMessage, error) {
	raw, err := t.cs.Next()
	if err != nil {
		return nil, err
	}
	var m protocol.ToolMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("call back tool: decoding a message: %w", err)
	}
	return &m, nil
}

// Close stops reading.
func (t *ToolStream) Close() { t.cs.Close() }

// InvokeTool calls back to another tool.
func (s *Session) InvokeTool(ctx context.Context, call ToolInvocation) (*ToolStream, error) {
	if call.ToolType == "" {
		call.ToolType = "builtin"
	}
	if call.Parameters == nil {
		call.Parameters = map[string]any{}
	}
	cs, err := s.Invoke(ctx, "tool", call)
	if err != nil {
		return nil, err
	}
	return &ToolStream{cs}, nil
}

// UploadURL asks the platform where to upload a file (Dify's upload_file):
// a signed URL taking a multipart POST of the file.
func (s *Session) UploadURL(ctx context.Context, filename, mimetype string) (string, error) {
	var res struct {
		URL string `json:"url"`
	}
	err := s.call(ctx, "upload_file", map[string]any{"filename": filename, "mimetype": mimetype}, &res)
	return res.URL, err
}

// UploadedFile is the platform's record of an uploaded file.
type UploadedFile struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Extension  string `json:"extension"`
	MimeType   string `json:"mime_type"`
	Type       string `json:"type,omitempty"`
	PreviewURL string `json:"preview_url,omitempty"`
}

// UploadFile uploads content as a file, as Dify's SDK does: the signed URL
// from UploadURL, then the bytes as the multipart field "file" to it,
// answered with 201 and the file's record.
func (s *Session) UploadFile(ctx context.Context, filename, mimetype string, content []byte) (*UploadedFile, error) {
	url, err := s.UploadURL(ctx, filename, mimetype)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreatePart(map[string][]string{
		"Content-Disposition": {fmt.Sprintf(`form-data; name="file"; filename=%q`, filename)},
		"Content-Type":        {mimetype},
	})
	if err == nil {
		_, err = part.Write(content)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", filename, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", filename, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("upload %s: the platform answered %s: %.200s", filename, resp.Status, text)
	}
	var f UploadedFile
	if err := json.Unmarshal(text, &f); err != nil {
		return nil, fmt.Errorf("upload %s: decoding the answer: %w", filename, err)
	}
	return &f, nil
}
