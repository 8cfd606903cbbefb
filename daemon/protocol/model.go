package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Request type and actions understood by model plugins (Dify's ModelActions).
const (
	TypeModel                         = "model"
	ActionInvokeLLM                   = "invoke_llm"
	ActionGetLLMNumTokens             = "get_llm_num_tokens"
	ActionInvokeTextEmbedding         = "invoke_text_embedding"
	ActionGetTextEmbeddingNumTokens   = "get_text_embedding_num_tokens"
	ActionInvokeRerank                = "invoke_rerank"
	ActionInvokeTTS                   = "invoke_tts"
	ActionGetTTSModelVoices           = "get_tts_model_voices"
	ActionInvokeSpeech2Text           = "invoke_speech2text"
	ActionInvokeModeration            = "invoke_moderation"
	ActionValidateProviderCredentials = "validate_provider_credentials"
	ActionValidateModelCredentials    = "validate_model_credentials"
	ActionGetAIModelSchemas           = "get_ai_model_schemas"
)

// Error types a model plugin reports (the error_type of a session error), as
// Dify's SDK maps a provider's failures; Dify's API raises the exception of
// the same name.
const (
	ErrInvokeConnection          = "InvokeConnectionError"
	ErrInvokeServerUnavailable   = "InvokeServerUnavailableError"
	ErrInvokeRateLimit           = "InvokeRateLimitError"
	ErrInvokeAuthorization       = "InvokeAuthorizationError"
	ErrInvokeBadRequest          = "InvokeBadRequestError"
	ErrCredentialsValidateFailed = "CredentialsValidateFailedError"
)

// Embedding input types (the input_type of invoke_text_embedding).
const (
	InputDocument = "document"
	InputQuery    = "query"
)

// ModelRequest holds the fields of a model request's data; it is embedded in
// RequestData, whose provider and credentials it shares, so its members are
// flattened into the request line as Dify's daemon flattens them. Each
// action uses some of them (Dify's pkg/entities/requests/model.go); Wire
// fills in the ones the SDK's model for that action requires.
type ModelRequest struct {
	ModelType string `json:"model_type,omitempty"`
	Model     string `json:"model,omitempty"`

	// invoke_llm and get_llm_num_tokens
	PromptMessages  []PromptMessage     `json:"prompt_messages,omitzero"`
	ModelParameters map[string]any      `json:"model_parameters,omitzero"`
	Tools           []PromptMessageTool `json:"tools,omitzero"`
	ToolChoice      *ToolChoice         `json:"tool_choice,omitempty"`
	Stop            []string            `json:"stop,omitzero"`
	JSONSchema      map[string]any      `json:"json_schema,omitempty"`
	Stream          *bool               `json:"stream,omitempty"`

	// invoke_text_embedding and get_text_embedding_num_tokens
	Texts     []string `json:"texts,omitzero"`
	InputType string   `json:"input_type,omitempty"`

	// invoke_rerank
	Query          string   `json:"query,omitempty"`
	Docs           []string `json:"docs,omitzero"`
	ScoreThreshold *float64 `json:"score_threshold,omitempty"`
	TopN           *int     `json:"top_n,omitempty"`

	// invoke_tts and get_tts_model_voices
	ContentText string  `json:"content_text,omitempty"`
	Voice       string  `json:"voice,omitempty"`
	TenantID    string  `json:"tenant_id,omitempty"`
	Language    *string `json:"language,omitempty"`

	// invoke_speech2text: the audio, hex-encoded
	File string `json:"file,omitempty"`

	// invoke_moderation
	Text string `json:"text,omitempty"`
}

// wire returns a copy of m with what the SDK's request model of action
// requires: lists and objects it requires present (empty), and the keys it
// requires without a default present: score_threshold, top_n and language
// with Dify's daemon's values for an absent one (0, 0, ""), stop and tools
// as empty lists (Dify's daemon sends null for invoke_llm's and [] for
// get_llm_num_tokens'; the SDK takes both, and plugins test them by truth).
func (m ModelRequest) wire(action string) *ModelRequest {
	switch action {
	case ActionInvokeLLM:
		m.PromptMessages, m.Tools = orEmpty(m.PromptMessages), wireTools(m.Tools)
		m.Stop = orEmpty(m.Stop)
		if m.ModelParameters == nil {
			m.ModelParameters = map[string]any{}
		}
		if m.Stream == nil {
			m.Stream = new(bool) // Dify's daemon sends false for an absent stream
		}
	case ActionGetLLMNumTokens:
		m.PromptMessages, m.Tools = orEmpty(m.PromptMessages), wireTools(m.Tools)
	case ActionInvokeTextEmbedding:
		m.Texts = orEmpty(m.Texts)
		if m.InputType == "" {
			m.InputType = InputDocument
		}
	case ActionGetTextEmbeddingNumTokens:
		m.Texts = orEmpty(m.Texts)
	case ActionInvokeRerank:
		m.Docs = orEmpty(m.Docs)
		if m.ScoreThreshold == nil {
			m.ScoreThreshold = new(float64)
		}
		if m.TopN == nil {
			m.TopN = new(int)
		}
	case ActionGetTTSModelVoices:
		if m.Language == nil {
			m.Language = new(string)
		}
	}
	return &m
}

// orEmpty returns s, or an empty slice (sent as []) when s is nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// wireTools returns tools with every parameters object present (the SDK
// requires one), copying the slice only when one is missing.
func wireTools(tools []PromptMessageTool) []PromptMessageTool {
	for i := range tools {
		if tools[i].Parameters == nil {
			out := make([]PromptMessageTool, len(tools))
			for j, t := range tools {
				if t.Parameters == nil {
					t.Parameters = map[string]any{}
				}
				out[j] = t
			}
			return out
		}
	}
	return orEmpty(tools)
}

// Prompt message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// PromptMessage is one message of an LLM conversation (Dify's PromptMessage):
// a tool result carries the ToolCallID it answers, an assistant turn may
// carry ToolCalls.
type PromptMessage struct {
	Role       string          `json:"role"`
	Content    Content         `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	OpaqueBody json.RawMessage `json:"opaque_body,omitempty"`
}

// Content is a prompt message's content: a string, or (when Parts is not
// nil) a list of parts such as text and images.
type Content struct {
	Text  string
	Parts []ContentPart
}

// MarshalJSON writes the content as a string or as its list of parts.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// UnmarshalJSON reads a string, a list of parts, or null (an empty string).
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = Content{}
		return nil
	case len(b) > 0 && b[0] == '"':
		*c = Content{}
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		*c = Content{Parts: []ContentPart{}}
		return json.Unmarshal(b, &c.Parts)
	}
	return errors.New("content must be a string or a list of content parts")
}

// Content part types.
const (
	PartText     = "text"
	PartImage    = "image"
	PartAudio    = "audio"
	PartVideo    = "video"
	PartDocument = "document"
)

// ContentPart is one part of a multi-part content (Dify's
// PromptMessageContent): text in Data, media by URL or base64 data. Its
// members are sent as Dify's daemon sends them, all of them (the SDK requires
// format and mime_type of media), detail only when set (the SDK accepts only
// low and high).
type ContentPart struct {
	Type         string          `json:"type"`
	Base64Data   string          `json:"base64_data"`
	URL          string          `json:"url"`
	Data         string          `json:"data"`
	EncodeFormat string          `json:"encode_format"`
	Format       string          `json:"format"`
	MIMEType     string          `json:"mime_type"`
	Detail       string          `json:"detail,omitempty"`
	Filename     string          `json:"filename"`
	OpaqueBody   json.RawMessage `json:"opaque_body,omitempty"`
}

// ToolCall is a function call an assistant message makes; Arguments is JSON text.
type ToolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction names the function called and its arguments.
type ToolCallFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// PromptMessageTool is a function an LLM may call; Parameters is its JSON schema.
type PromptMessageTool struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Parameters  map[string]any `json:"parameters"`
}

// Tool choice modes.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
	ToolChoiceTool     = "tool"
)

// ToolChoice says whether and which tool the model must call (Name with mode tool).
type ToolChoice struct {
	Mode string `json:"mode"`
	Name string `json:"name,omitempty"`
}

// LLMResultChunk is one chunk of an LLM's streamed answer.
type LLMResultChunk struct {
	Model             string          `json:"model"`
	PromptMessages    []PromptMessage `json:"prompt_messages,omitempty"`
	SystemFingerprint string          `json:"system_fingerprint,omitempty"`
	Delta             LLMResultDelta  `json:"delta"`
}

// LLMResultDelta is what a chunk adds: part of the assistant's message, and
// on the last chunk usage and the finish reason.
type LLMResultDelta struct {
	Index        int           `json:"index"`
	Message      PromptMessage `json:"message"`
	Usage        *LLMUsage     `json:"usage,omitempty"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// LLMUsage is an LLM call's token counts, prices and latency (seconds).
type LLMUsage struct {
	PromptTokens        int     `json:"prompt_tokens"`
	PromptUnitPrice     Decimal `json:"prompt_unit_price"`
	PromptPriceUnit     Decimal `json:"prompt_price_unit"`
	PromptPrice         Decimal `json:"prompt_price"`
	CompletionTokens    int     `json:"completion_tokens"`
	CompletionUnitPrice Decimal `json:"completion_unit_price"`
	CompletionPriceUnit Decimal `json:"completion_price_unit"`
	CompletionPrice     Decimal `json:"completion_price"`
	TotalTokens         int     `json:"total_tokens"`
	TotalPrice          Decimal `json:"total_price"`
	Currency            string  `json:"currency"`
	Latency             float64 `json:"latency"`
}

// Decimal is a price as its decimal text: the SDK sends decimals as JSON
// strings, Dify's daemon reads numbers too and writes strings.
type Decimal string

// MarshalJSON writes the decimal as a JSON string ("0" when empty).
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte(`"0"`), nil
	}
	return json.Marshal(string(d))
}

// UnmarshalJSON reads a JSON string or number.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	var n json.Number
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n = json.Number(s)
	} else if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("a decimal must be a number or a string")
	}
	if _, err := n.Float64(); err != nil {
		return errors.New("a decimal must be a number or a string of one")
	}
	*d = Decimal(n)
	return nil
}

// NumTokens answers get_llm_num_tokens.
type NumTokens struct {
	NumTokens int `json:"num_tokens"`
}

// TextEmbeddingNumTokens answers get_text_embedding_num_tokens: one count per text.
type TextEmbeddingNumTokens struct {
	NumTokens []int `json:"num_tokens"`
}

// TextEmbeddingResult answers invoke_text_embedding: one vector per text.
type TextEmbeddingResult struct {
	Model      string         `json:"model"`
	Embeddings [][]float64    `json:"embeddings"`
	Usage      EmbeddingUsage `json:"usage"`
}

// EmbeddingUsage is an embedding or rerank call's tokens, price and latency.
type EmbeddingUsage struct {
	Tokens      int     `json:"tokens"`
	TotalTokens int     `json:"total_tokens"`
	UnitPrice   Decimal `json:"unit_price"`
	PriceUnit   Decimal `json:"price_unit"`
	TotalPrice  Decimal `json:"total_price"`
	Currency    string  `json:"currency"`
	Latency     float64 `json:"latency"`
}

// RerankResult answers invoke_rerank: the documents by relevance.
type RerankResult struct {
	Model string           `json:"model"`
	Docs  []RerankDocument `json:"docs"`
}

// RerankDocument is one ranked document; Index is its place in the request's docs.
type RerankDocument struct {
	Index int     `json:"index"`
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

// TTSChunk is one chunk of invoke_tts's audio: Result is hex-encoded bytes.
type TTSChunk struct {
	Result   string `json:"result"`
	MIMEType string `json:"mime_type,omitempty"`
}

// TTSVoices answers get_tts_model_voices.
type TTSVoices struct {
	Voices []TTSVoice `json:"voices"`
}

// TTSVoice is a voice a TTS model offers: Value is what invoke_tts takes.
type TTSVoice struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TextResult answers invoke_speech2text: the transcript.
type TextResult struct {
	Result string `json:"result"`
}

// ModerationResult answers invoke_moderation: Result is true when the text
// is flagged. Categories, Plugboard's addition (Dify reads only result),
// name why, when the model says (OpenAI's moderation answers them too).
type ModerationResult struct {
	Result     bool     `json:"result"`
	Categories []string `json:"categories,omitempty"`
}

// CredentialsResult answers validate_provider_credentials and
// validate_model_credentials; Credentials, when given, are the plugin's
// normalised credentials, which Dify merges into its own.
type CredentialsResult struct {
	Result      bool           `json:"result"`
	Credentials map[string]any `json:"credentials,omitempty"`
}

// ModelSchema answers get_ai_model_schemas: the model's declaration
// (Dify's AIModelEntity), null when the plugin has none for it.
type ModelSchema struct {
	ModelSchema json.RawMessage `json:"model_schema"`
}
