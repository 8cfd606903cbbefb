package sdk

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// The model wire's types are the runtime protocol's (daemon/protocol): the
// daemon validates a plugin's answers with the same types the SDK writes.
type (
	// PromptMessage is one message of an LLM's prompt, or the message of a
	// streamed chunk; its Content is text, or parts when Content.Parts is
	// set (a message holding images or files).
	PromptMessage = protocol.PromptMessage
	// Content is a prompt message's content: Text, or Parts.
	Content = protocol.Content
	// ContentPart is one part of a message's content: text (Data) or a file
	// given by URL or base64 data.
	ContentPart = protocol.ContentPart
	// ToolCall is a model's request to call a tool (OpenAI's shape);
	// Function.Arguments is the JSON text of the call's arguments.
	ToolCall = protocol.ToolCall
	// ToolCallFunction names the tool a ToolCall calls and holds its arguments.
	ToolCallFunction = protocol.ToolCallFunction
	// PromptTool is a tool offered to an LLM: a name, a description and the
	// JSON schema of its arguments.
	PromptTool = protocol.PromptMessageTool
	// ToolChoice says whether and which tool the model should call.
	ToolChoice = protocol.ToolChoice
	// LLMChunk is one streamed LLMResultChunk.
	LLMChunk = protocol.LLMResultChunk
	// LLMDelta is what one chunk adds: a piece of the assistant's message,
	// and at the end the usage and the finish reason.
	LLMDelta = protocol.LLMResultDelta
	// LLMUsage is the token use and price of one LLM call (Dify's LLMUsage).
	// Empty prices are sent as "0"; the SDK sends an empty currency as "USD"
	// and a zero TotalTokens as the sum of prompt and completion tokens.
	LLMUsage = protocol.LLMUsage
	// Decimal is a price as decimal text ("0.000002").
	Decimal = protocol.Decimal
	// EmbeddingResult answers invoke_text_embedding: one vector per text, in
	// the order of the request's texts. Model defaults to the request's model.
	EmbeddingResult = protocol.TextEmbeddingResult
	// EmbeddingUsage is the token use and price of one embedding call;
	// defaults are filled as for LLMUsage.
	EmbeddingUsage = protocol.EmbeddingUsage
	// RerankResult answers invoke_rerank. The SDK orders the documents by
	// falling score; Model defaults to the request's model.
	RerankResult = protocol.RerankResult
	// RerankDocument is one document of a rerank answer: its index in the
	// request's docs, its text and its relevance score.
	RerankDocument = protocol.RerankDocument
	// Voice is one voice a TTS model offers: its display name and the value
	// sent back as a request's voice.
	Voice = protocol.TTSVoice
)

// Prompt message roles.
const (
	RoleSystem    = protocol.RoleSystem
	RoleUser      = protocol.RoleUser
	RoleAssistant = protocol.RoleAssistant
	RoleTool      = protocol.RoleTool
)

// Tool choice modes of ToolChoice.
const (
	ToolChoiceAuto     = protocol.ToolChoiceAuto
	ToolChoiceNone     = protocol.ToolChoiceNone
	ToolChoiceRequired = protocol.ToolChoiceRequired
	ToolChoiceTool     = protocol.ToolChoiceTool // call the tool named in ToolChoice.Name
)

// NewToolCall returns a function tool call with the arguments marshalled
// to JSON.
func NewToolCall(id, name string, args any) (ToolCall, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return ToolCall{}, fmt.Errorf("sdk: encode the arguments of tool call %s: %w", name, err)
	}
	return ToolCall{ID: id, Type: "function", Function: ToolCallFunction{Name: name, Arguments: string(b)}}, nil
}

// MessageText returns a message's text: its content, or its text parts
// joined.
func MessageText(m PromptMessage) string {
	if m.Content.Parts == nil {
		return m.Content.Text
	}
	var b strings.Builder
	for _, p := range m.Content.Parts {
		if p.Type == protocol.PartText {
			b.WriteString(p.Data)
		}
	}
	return b.String()
}

// fillUsage gives the usage the defaults described on LLMUsage.
func fillUsage(u *LLMUsage) {
	if u.Currency == "" {
		u.Currency = "USD"
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
}

// fillEmbeddingUsage gives the usage the defaults described on
// EmbeddingUsage.
func fillEmbeddingUsage(u *EmbeddingUsage) {
	if u.Currency == "" {
		u.Currency = "USD"
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.Tokens
	}
}
