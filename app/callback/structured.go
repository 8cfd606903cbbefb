package callback

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// structuredPrompt asks a model without native structured output for JSON
// that fits the schema; the schema goes where {schema} is.
const structuredPrompt = `You answer with one JSON object and nothing else: no explanation, no Markdown code fence.
The object must be valid JSON and follow this JSON Schema:
<json_schema>
{schema}
</json_schema>
Use the field names and types the schema gives; leave out no required field.`

// featureStructuredOutput is a model's declared feature of answering to a
// JSON schema natively.
const featureStructuredOutput = "structured-output"

// structuredChunk is Dify's LLMResultChunkWithStructuredOutput: an LLM
// chunk, and on the last one the parsed object.
type structuredChunk struct {
	*protocol.LLMResultChunk
	StructuredOutput map[string]any `json:"structured_output,omitempty"`
}

// structuredOutput streams an LLM's answer to a JSON schema, then a last
// chunk with the answer parsed as a JSON object. A model that declares
// structured output gets the schema as its json_schema parameter (Dify's
// response_format json_schema); any other is asked by a system prompt.
func (s *Service) structuredOutput(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req llmRequest
	if err := decode(c, &req); err != nil {
		return "", err
	}
	if len(req.StructuredOutputSchema) == 0 {
		return req.target(), plugboard.Errorf(plugboard.EINVALID, "The request's structured_output_schema is required.")
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelLLM)
	if err != nil {
		return req.target(), err
	}
	schema, err := json.Marshal(req.StructuredOutputSchema)
	if err != nil {
		return req.target(), plugboard.Errorf(plugboard.EINVALID, "The structured output schema cannot be written as JSON: %v.", err)
	}
	msgs := req.PromptMessages
	if r.Declaration != nil && slices.Contains(r.Declaration.Features, featureStructuredOutput) {
		req.CompletionParams = withSchema(req.CompletionParams, string(schema))
	} else {
		msgs = withSystemPrompt(msgs, strings.ReplaceAll(structuredPrompt, "{schema}", string(schema)))
	}
	var text strings.Builder
	var last *protocol.LLMResultChunk
	err = s.streamLLM(ctx, r, &req, msgs, func(ch *protocol.LLMResultChunk) error {
		text.WriteString(chunkText(ch))
		last = ch
		return emit(structuredChunk{LLMResultChunk: ch})
	})
	if err != nil {
		return req.target(), err
	}
	obj, err := ParseStructured(text.String())
	if err != nil {
		return req.target(), err
	}
	end := &protocol.LLMResultChunk{Model: r.Model, PromptMessages: []protocol.PromptMessage{},
		Delta: protocol.LLMResultDelta{Message: protocol.PromptMessage{Role: protocol.RoleAssistant}}}
	if last != nil {
		end.Delta.Index = last.Delta.Index + 1
	}
	return req.target(), emit(structuredChunk{LLMResultChunk: end, StructuredOutput: obj})
}

// withSchema is params with Dify's native structured-output parameters.
func withSchema(params map[string]any, schema string) map[string]any {
	out := make(map[string]any, len(params)+2)
	for k, v := range params {
		out[k] = v
	}
	out["response_format"] = "json_schema"
	out["json_schema"] = schema
	return out
}

// withSystemPrompt puts prompt first: into the leading system message, or
// as a new one.
func withSystemPrompt(msgs []protocol.PromptMessage, prompt string) []protocol.PromptMessage {
	out := slices.Clone(msgs)
	if len(out) > 0 && out[0].Role == protocol.RoleSystem && out[0].Content.Parts == nil {
		out[0].Content.Text = prompt + "\n\n" + out[0].Content.Text
		return out
	}
	return append([]protocol.PromptMessage{{Role: protocol.RoleSystem, Content: protocol.Content{Text: prompt}}}, out...)
}

// ParseStructured reads a model's structured answer: a JSON object,
// perhaps inside a Markdown code fence or around words, as Dify's parser
// accepts it. Anything else is an invalid error quoting the answer's start.
func ParseStructured(text string) (map[string]any, error) {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "```"))
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(t), &obj); err == nil && obj != nil {
		return obj, nil
	}
	if i, j := strings.Index(t, "{"), strings.LastIndex(t, "}"); i >= 0 && j > i {
		if err := json.Unmarshal([]byte(t[i:j+1]), &obj); err == nil && obj != nil {
			return obj, nil
		}
	}
	return nil, plugboard.Errorf(plugboard.EINVALID, "Failed to parse structured output: the model did not answer with a JSON object (it said %q).", truncate(text, 200))
}
