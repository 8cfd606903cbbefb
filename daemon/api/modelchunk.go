package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// chunkCheck validates one chunk a model plugin streamed and returns the
// bytes to send on, as Dify's daemon decodes each chunk into the route's
// response type and refuses what does not fit.
type chunkCheck func(chunk []byte) ([]byte, error)

// llmChunk is an LLMResultChunk read for its shape: pointers tell a member
// that is absent from one that is zero.
type llmChunk struct {
	Model          *string         `json:"model"`
	PromptMessages json.RawMessage `json:"prompt_messages"`
	Delta          *struct {
		Index        *int                    `json:"index"`
		Message      *protocol.PromptMessage `json:"message"`
		Usage        *llmUsage               `json:"usage"`
		FinishReason *string                 `json:"finish_reason"`
	} `json:"delta"`
}

// llmUsage is LLMUsage read for its shape: every member is required.
type llmUsage struct {
	PromptTokens        *int              `json:"prompt_tokens"`
	PromptUnitPrice     *protocol.Decimal `json:"prompt_unit_price"`
	PromptPriceUnit     *protocol.Decimal `json:"prompt_price_unit"`
	PromptPrice         *protocol.Decimal `json:"prompt_price"`
	CompletionTokens    *int              `json:"completion_tokens"`
	CompletionUnitPrice *protocol.Decimal `json:"completion_unit_price"`
	CompletionPriceUnit *protocol.Decimal `json:"completion_price_unit"`
	CompletionPrice     *protocol.Decimal `json:"completion_price"`
	TotalTokens         *int              `json:"total_tokens"`
	TotalPrice          *protocol.Decimal `json:"total_price"`
	Currency            *string           `json:"currency"`
	Latency             *float64          `json:"latency"`
}

// missing names the usage members that are absent.
func (u *llmUsage) missing() []string {
	var out []string
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"prompt_tokens", u.PromptTokens != nil}, {"prompt_unit_price", u.PromptUnitPrice != nil},
		{"prompt_price_unit", u.PromptPriceUnit != nil}, {"prompt_price", u.PromptPrice != nil},
		{"completion_tokens", u.CompletionTokens != nil}, {"completion_unit_price", u.CompletionUnitPrice != nil},
		{"completion_price_unit", u.CompletionPriceUnit != nil}, {"completion_price", u.CompletionPrice != nil},
		{"total_tokens", u.TotalTokens != nil}, {"total_price", u.TotalPrice != nil},
		{"currency", u.Currency != nil}, {"latency", u.Latency != nil},
	} {
		if !f.present {
			out = append(out, f.name)
		}
	}
	return out
}

// checkLLMChunk validates an LLMResultChunk (model, delta.index,
// delta.message with a valid role and content, a complete usage when there
// is one) and adds "prompt_messages":[] when the chunk has none, as Dify's
// daemon writes every chunk for older Dify versions. A plain text delta, the
// chunk of nearly every call, is checked without decoding it (quickLLMChunk).
func checkLLMChunk(chunk []byte) ([]byte, error) {
	hasPrompt, ok := quickLLMChunk(chunk)
	if !ok {
		var c llmChunk
		if err := json.Unmarshal(chunk, &c); err != nil {
			return nil, fmt.Errorf("not an LLMResultChunk: %v (%s)", describeJSONError(err), brief(chunk))
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("not an LLMResultChunk: %v (%s)", err, brief(chunk))
		}
		hasPrompt = c.PromptMessages != nil
	}
	if hasPrompt {
		return chunk, nil
	}
	end := bytes.LastIndexByte(chunk, '}')
	out := make([]byte, 0, len(chunk)+len(promptMessagesMember))
	out = append(out, chunk[:end]...)
	return append(append(out, promptMessagesMember...), chunk[end:]...), nil
}

// Members read by quickLLMChunk.
var (
	chunkKeys   = []string{"model", "prompt_messages", "delta"}
	deltaKeys   = []string{"index", "message", "usage", "finish_reason"}
	messageKeys = []string{"role", "content", "tool_calls"}
)

// quickLLMChunk accepts, without decoding, a chunk whose delta is an
// assistant's (or system's, user's) plain text: model a non-empty string,
// an integer index, a message whose content is a string or null with no
// tool calls, no usage, a string finish_reason or none. ok is false for
// anything else, which the caller checks by decoding. Chunks come from lines
// the runtime has checked with json.Valid.
func quickLLMChunk(chunk []byte) (hasPromptMessages, ok bool) {
	var top [3][]byte
	if !protocol.Pick(chunk, chunkKeys, top[:]) || !nonEmptyString(top[0]) || top[2] == nil {
		return false, false
	}
	var d [4][]byte
	if !protocol.Pick(top[2], deltaKeys, d[:]) || !isInteger(d[0]) || d[1] == nil || !isNull(d[2]) ||
		!(isNull(d[3]) || d[3][0] == '"') {
		return false, false
	}
	var m [3][]byte
	if !protocol.Pick(d[1], messageKeys, m[:]) {
		return false, false
	}
	switch role, _ := protocol.PlainString(m[0]); string(role) {
	case protocol.RoleAssistant, protocol.RoleSystem, protocol.RoleUser: // a tool message needs its id: decoded
	default:
		return false, false
	}
	if !(isNull(m[1]) || m[1][0] == '"') || !(isNull(m[2]) || isEmptyList(m[2])) {
		return false, false
	}
	return top[1] != nil, true
}

// nonEmptyString reports whether v is a JSON string with at least one character.
func nonEmptyString(v []byte) bool { return len(v) > 2 && v[0] == '"' }

// isNull reports whether v is absent or null.
func isNull(v []byte) bool { return v == nil || string(v) == "null" }

// isEmptyList reports whether v is [] (spaces allowed inside).
func isEmptyList(v []byte) bool {
	return len(v) >= 2 && v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0
}

// isInteger reports whether v is a JSON integer.
func isInteger(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// promptMessagesMember is added to chunks without prompt_messages.
const promptMessagesMember = `,"prompt_messages":[]`

// validate checks the members Dify's LLMResultChunk requires.
func (c *llmChunk) validate() error {
	d := c.Delta
	switch {
	case c.Model == nil || *c.Model == "":
		return errors.New("model is required")
	case d == nil:
		return errors.New("delta is required")
	case d.Index == nil:
		return errors.New("delta.index is required")
	case d.Message == nil:
		return errors.New("delta.message is required")
	}
	if err := checkMessage(d.Message); err != nil {
		return fmt.Errorf("delta.message: %v", err)
	}
	if d.Usage != nil {
		if miss := d.Usage.missing(); len(miss) > 0 {
			return fmt.Errorf("delta.usage lacks %s", strings.Join(miss, ", "))
		}
	}
	return nil
}

// checkShape returns a check that decodes a chunk into T and requires the
// given members.
func checkShape[T any](required ...string) chunkCheck {
	return func(chunk []byte) ([]byte, error) {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(chunk, &members); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v (%s)", describeJSONError(err), brief(chunk))
		}
		for _, k := range required {
			if _, ok := members[k]; !ok {
				return nil, fmt.Errorf("%s is required (%s)", k, brief(chunk))
			}
		}
		var v T
		if err := json.Unmarshal(chunk, &v); err != nil {
			return nil, fmt.Errorf("%v (%s)", describeJSONError(err), brief(chunk))
		}
		return chunk, nil
	}
}

// checkRerank validates a RerankResult: every document has index, text and score.
func checkRerank(chunk []byte) ([]byte, error) {
	if _, err := checkShape[protocol.RerankResult]("model", "docs")(chunk); err != nil {
		return nil, err
	}
	var r struct {
		Docs []map[string]json.RawMessage `json:"docs"`
	}
	_ = json.Unmarshal(chunk, &r) // the shape check decoded it already
	for i, doc := range r.Docs {
		for _, k := range []string{"index", "text", "score"} {
			if _, ok := doc[k]; !ok {
				return nil, fmt.Errorf("docs[%d].%s is required (%s)", i, k, brief(chunk))
			}
		}
	}
	return chunk, nil
}

// checkTTSChunk validates a chunk of audio: result is hex.
func checkTTSChunk(chunk []byte) ([]byte, error) {
	if _, err := checkShape[protocol.TTSChunk]("result")(chunk); err != nil {
		return nil, err
	}
	var t protocol.TTSChunk
	_ = json.Unmarshal(chunk, &t)
	if !isHex(t.Result) {
		return nil, fmt.Errorf("result must be the audio's bytes in hex (%s)", brief(chunk))
	}
	return chunk, nil
}

// isHex reports whether s is an even number of hex digits.
func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if hexDigit(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexDigit(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f', b >= 'A' && b <= 'F':
		return int(b|0x20-'a') + 10
	}
	return -1
}

// describeJSONError says briefly why a chunk did not decode.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s must be %s, not a JSON %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// brief quotes the start of a chunk for an error message.
func brief(chunk []byte) string {
	const max = 200
	if len(chunk) > max {
		return fmt.Sprintf("%q…", chunk[:max])
	}
	return fmt.Sprintf("%q", chunk)
}
