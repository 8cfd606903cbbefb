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
// daemon writes every chunk for older Dify versions.
func checkLLMChunk(chunk []byte) ([]byte, error) {
	var c llmChunk
	if err := json.Unmarshal(chunk, &c); err != nil {
		return nil, fmt.Errorf("not an LLMResultChunk: %v (%s)", describeJSONError(err), brief(chunk))
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("not an LLMResultChunk: %v (%s)", err, brief(chunk))
	}
	if c.PromptMessages != nil {
		return chunk, nil
	}
	end := bytes.LastIndexByte(chunk, '}')
	out := make([]byte, 0, len(chunk)+len(promptMessagesMember))
	out = append(out, chunk[:end]...)
	return append(append(out, promptMessagesMember...), chunk[end:]...), nil
}

// promptMessagesMember is added to chunks without prompt_messages.
const promptMessagesMember = `,"prompt_messages":[]`

// validate checks the members Dify's LLMResultChunk requires.
func (c *llmChunk) validate() error {
	d := c.Delta
	switch {
	case c.Model == nil || *c.Model == "":
		return errors.New("model is required")
	case c.PromptMessages != nil && !bytes.HasPrefix(bytes.TrimSpace(c.PromptMessages), []byte("[")):
		return errors.New("prompt_messages must be a list")
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
