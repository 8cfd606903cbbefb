package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Prompt message roles, as in Dify's PromptMessageRole.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// PromptMessage is one message of an LLM's prompt, or the message of a
// streamed chunk. Its content is text, or, when Parts is set (a message
// holding images or files), a list of parts; on the wire content is a
// string or an array, as Dify sends and validates it.
type PromptMessage struct {
	Role       string
	Content    string
	Parts      []ContentPart
	Name       string
	ToolCalls  []ToolCall
	ToolCallID string
}

// ContentPart is one part of a message's content: text (Data) or a file
// given by URL or base64 data.
type ContentPart struct {
	Type         string `json:"type"` // text, image, audio, video, document
	Data         string `json:"data,omitempty"`
	Base64Data   string `json:"base64_data,omitempty"`
	URL          string `json:"url,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	Format       string `json:"format,omitempty"`
	EncodeFormat string `json:"encode_format,omitempty"`
	Detail       string `json:"detail,omitempty"` // low or high, for images
	Filename     string `json:"filename,omitempty"`
}

// ToolCall is a model's request to call a tool (OpenAI's shape); Arguments
// is the JSON text of the call's arguments.
type ToolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"` // "function"
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction names the tool a ToolCall calls and holds its arguments.
type ToolCallFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// NewToolCall returns a function tool call with the arguments marshalled
// to JSON.
func NewToolCall(id, name string, args any) (ToolCall, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return ToolCall{}, fmt.Errorf("sdk: encode the arguments of tool call %s: %w", name, err)
	}
	return ToolCall{ID: id, Type: "function", Function: ToolCallFunction{Name: name, Arguments: string(b)}}, nil
}

// Text returns the message's text: its content, or its text parts joined.
func (m PromptMessage) Text() string {
	if m.Parts == nil {
		return m.Content
	}
	var b bytes.Buffer
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Data)
		}
	}
	return b.String()
}

// promptMessageJSON is PromptMessage on the wire.
type promptMessageJSON struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// MarshalJSON writes content as a string, or as an array when Parts is
// set, and tool_calls always as an array, as Dify's SDK does.
func (m PromptMessage) MarshalJSON() ([]byte, error) {
	content, err := json.Marshal(m.Content)
	if m.Parts != nil {
		content, err = json.Marshal(m.Parts)
	}
	if err != nil {
		return nil, err
	}
	calls := m.ToolCalls
	if calls == nil {
		calls = []ToolCall{}
	}
	return json.Marshal(promptMessageJSON{Role: m.Role, Content: content, Name: m.Name, ToolCalls: calls, ToolCallID: m.ToolCallID})
}

// UnmarshalJSON reads content given as a string, an array of parts or null.
func (m *PromptMessage) UnmarshalJSON(b []byte) error {
	var raw promptMessageJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.Role == "" {
		return errors.New("a prompt message has no role")
	}
	*m = PromptMessage{Role: raw.Role, Name: raw.Name, ToolCalls: raw.ToolCalls, ToolCallID: raw.ToolCallID}
	content := bytes.TrimSpace(raw.Content)
	switch {
	case len(content) == 0 || bytes.Equal(content, []byte("null")):
		return nil
	case content[0] == '"':
		return json.Unmarshal(content, &m.Content)
	case content[0] == '[':
		if err := json.Unmarshal(content, &m.Parts); err != nil {
			return fmt.Errorf("content of a %s message: %w", raw.Role, err)
		}
		if m.Parts == nil {
			m.Parts = []ContentPart{}
		}
		return nil
	}
	return fmt.Errorf("content of a %s message must be a string or an array of parts", raw.Role)
}

// PromptTool is a tool offered to an LLM: a name, a description and the JSON
// schema of its arguments.
type PromptTool struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Parameters  map[string]any `json:"parameters"`
}

// Tool choice modes of ToolChoice.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
	ToolChoiceTool     = "tool" // call the tool named in ToolChoice.Name
)

// ToolChoice says whether and which tool the model should call.
type ToolChoice struct {
	Mode string `json:"mode"`
	Name string `json:"name,omitempty"`
}

// LLMUsage is the token use and price of one LLM call (Dify's LLMUsage,
// every field present). Prices are decimals written as strings; an empty
// price is sent as "0", an empty currency as "USD", and a zero TotalTokens
// as the sum of prompt and completion tokens.
type LLMUsage struct {
	PromptTokens        int     `json:"prompt_tokens"`
	PromptUnitPrice     string  `json:"prompt_unit_price"`
	PromptPriceUnit     string  `json:"prompt_price_unit"`
	PromptPrice         string  `json:"prompt_price"`
	CompletionTokens    int     `json:"completion_tokens"`
	CompletionUnitPrice string  `json:"completion_unit_price"`
	CompletionPriceUnit string  `json:"completion_price_unit"`
	CompletionPrice     string  `json:"completion_price"`
	TotalTokens         int     `json:"total_tokens"`
	TotalPrice          string  `json:"total_price"`
	Currency            string  `json:"currency"`
	Latency             float64 `json:"latency"` // seconds
}

// MarshalJSON fills the defaults described on LLMUsage.
func (u LLMUsage) MarshalJSON() ([]byte, error) {
	type plain LLMUsage
	for _, p := range []*string{&u.PromptUnitPrice, &u.PromptPriceUnit, &u.PromptPrice,
		&u.CompletionUnitPrice, &u.CompletionPriceUnit, &u.CompletionPrice, &u.TotalPrice} {
		if *p == "" {
			*p = "0"
		}
	}
	if u.Currency == "" {
		u.Currency = "USD"
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return json.Marshal(plain(u))
}

// LLMChunk is one streamed LLMResultChunk.
type LLMChunk struct {
	Model             string   `json:"model"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`
	Delta             LLMDelta `json:"delta"`
}

// LLMDelta is what one chunk adds: a piece of the assistant's message, and
// at the end the usage and the finish reason.
type LLMDelta struct {
	Index        int           `json:"index"`
	Message      PromptMessage `json:"message"`
	Usage        *LLMUsage     `json:"usage,omitempty"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// EmbeddingUsage is the token use and price of one embedding call (Dify's
// EmbeddingUsage); defaults are filled as for LLMUsage.
type EmbeddingUsage struct {
	Tokens      int     `json:"tokens"`
	TotalTokens int     `json:"total_tokens"`
	UnitPrice   string  `json:"unit_price"`
	PriceUnit   string  `json:"price_unit"`
	TotalPrice  string  `json:"total_price"`
	Currency    string  `json:"currency"`
	Latency     float64 `json:"latency"` // seconds
}

// MarshalJSON fills the defaults described on EmbeddingUsage.
func (u EmbeddingUsage) MarshalJSON() ([]byte, error) {
	type plain EmbeddingUsage
	for _, p := range []*string{&u.UnitPrice, &u.PriceUnit, &u.TotalPrice} {
		if *p == "" {
			*p = "0"
		}
	}
	if u.Currency == "" {
		u.Currency = "USD"
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.Tokens
	}
	return json.Marshal(plain(u))
}

// EmbeddingResult answers invoke_text_embedding: one vector per text, in
// the order of the request's texts. Model defaults to the request's model.
type EmbeddingResult struct {
	Model      string         `json:"model"`
	Embeddings [][]float64    `json:"embeddings"`
	Usage      EmbeddingUsage `json:"usage"`
}

// RerankDocument is one document of a rerank answer: its index in the
// request's docs, its text and its relevance score.
type RerankDocument struct {
	Index int     `json:"index"`
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

// RerankResult answers invoke_rerank: documents ordered by falling score.
// Model defaults to the request's model.
type RerankResult struct {
	Model string           `json:"model"`
	Docs  []RerankDocument `json:"docs"`
}

// Voice is one voice a TTS model offers: its display name and the value
// sent back as a request's voice.
type Voice struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}
