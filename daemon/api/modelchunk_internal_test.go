package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckLLMChunk: chunks the fast path accepts, those it leaves to the
// decoder, and the malformed ones, each with the member it names.
func TestCheckLLMChunk(t *testing.T) {
	usage := `{"prompt_tokens":1,"prompt_unit_price":"0","prompt_price_unit":"0","prompt_price":"0",` +
		`"completion_tokens":1,"completion_unit_price":0.5,"completion_price_unit":"0","completion_price":"0",` +
		`"total_tokens":2,"total_price":"0","currency":"USD","latency":0.1}`
	ok := map[string]string{
		"Text":         `{"model":"m","prompt_messages":[],"delta":{"index":0,"message":{"role":"assistant","content":"hi","tool_calls":[]}}}`,
		"NullContent":  `{"model":"m","delta":{"index":3,"message":{"role":"assistant","content":null},"finish_reason":null}}`,
		"Usage":        `{"model":"m","delta":{"index":1,"message":{"role":"assistant","content":""},"usage":` + usage + `,"finish_reason":"stop"}}`,
		"ToolCalls":    `{"model":"m","delta":{"index":1,"message":{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}}}`,
		"Parts":        `{"model":"m","delta":{"index":1,"message":{"role":"assistant","content":[{"type":"text","data":"x"}]}}}`,
		"EscapedModel": `{"model":"m\"1","system_fingerprint":"fp","delta":{"index":0,"message":{"role":"assistant","content":"\u00e9"}}}`,
	}
	for name, chunk := range ok {
		t.Run("OK"+name, func(t *testing.T) {
			out, err := checkLLMChunk([]byte(chunk))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(out, &got); err != nil || got["prompt_messages"] == nil {
				t.Fatalf("sent %s (%v), want it with prompt_messages", out, err)
			}
			if strings.Contains(chunk, "prompt_messages") && string(out) != chunk {
				t.Fatalf("a chunk with prompt_messages changed: %s", out)
			}
		})
	}
	bad := map[string]struct{ chunk, want string }{
		"NoModel":      {`{"delta":{"index":0,"message":{"role":"assistant","content":"x"}}}`, "model is required"},
		"EmptyModel":   {`{"model":"","delta":{"index":0,"message":{"role":"assistant","content":"x"}}}`, "model is required"},
		"NoDelta":      {`{"model":"m"}`, "delta is required"},
		"NoIndex":      {`{"model":"m","delta":{"message":{"role":"assistant","content":"x"}}}`, "delta.index is required"},
		"FloatIndex":   {`{"model":"m","delta":{"index":1.5,"message":{"role":"assistant","content":"x"}}}`, "delta.index"},
		"NoMessage":    {`{"model":"m","delta":{"index":0}}`, "delta.message is required"},
		"NoRole":       {`{"model":"m","delta":{"index":0,"message":{"content":"x"}}}`, "role is required"},
		"BadRole":      {`{"model":"m","delta":{"index":0,"message":{"role":"bot","content":"x"}}}`, "role must be"},
		"BadContent":   {`{"model":"m","delta":{"index":0,"message":{"role":"assistant","content":7}}}`, "content"},
		"ShortUsage":   {`{"model":"m","delta":{"index":0,"message":{"role":"assistant","content":""},"usage":{"prompt_tokens":1}}}`, "delta.usage lacks prompt_unit_price"},
		"NotAnObject":  {`["model"]`, "not an LLMResultChunk"},
		"StringFinish": {`{"model":"m","delta":{"index":0,"message":{"role":"assistant","content":""},"finish_reason":5}}`, "finish_reason"},
	}
	for name, tc := range bad {
		t.Run("Err"+name, func(t *testing.T) {
			if _, err := checkLLMChunk([]byte(tc.chunk)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestCheckAnswers: the one-answer routes' chunks are checked for their
// members and types.
func TestCheckAnswers(t *testing.T) {
	routes := map[string]chunkCheck{}
	for _, r := range modelRoutes {
		routes[r.path] = r.chunk
	}
	cases := []struct {
		route, chunk, want string // want "" for a valid chunk
	}{
		{"llm/num_tokens", `{"num_tokens":12}`, ""},
		{"llm/num_tokens", `{"num_tokens":"12"}`, "num_tokens must be int"},
		{"llm/num_tokens", `{"tokens":12}`, "num_tokens is required"},
		{"text_embedding/invoke", `{"model":"e","embeddings":[[0.1,2]],"usage":{"tokens":1}}`, ""},
		{"text_embedding/invoke", `{"model":"e","embeddings":["x"],"usage":{}}`, "embeddings"},
		{"text_embedding/num_tokens", `{"num_tokens":[1,2]}`, ""},
		{"rerank/invoke", `{"model":"r","docs":[{"index":0,"text":"a","score":0.5}]}`, ""},
		{"rerank/invoke", `{"model":"r","docs":[{"index":0,"text":"a"}]}`, "docs[0].score is required"},
		{"tts/invoke", `{"result":"6869","mime_type":"audio/mpeg"}`, ""},
		{"tts/invoke", `{"result":"xyz"}`, "hex"},
		{"tts/model/voices", `{"voices":[{"name":"A","value":"a"}]}`, ""},
		{"speech2text/invoke", `{"result":"hello"}`, ""},
		{"moderation/invoke", `{"result":"yes"}`, "result must be bool"},
		{"model/validate_provider_credentials", `{"result":true,"credentials":{"k":"v"}}`, ""},
		{"model/validate_model_credentials", `{"credentials":{}}`, "result is required"},
		{"model/schema", `{"model_schema":null}`, ""},
		{"model/schema", `[]`, "not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.route, func(t *testing.T) {
			out, err := routes[tc.route]([]byte(tc.chunk))
			switch {
			case tc.want == "" && (err != nil || string(out) != tc.chunk):
				t.Fatalf("%s: %s, %v", tc.chunk, out, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%s: error %v, want one with %q", tc.chunk, err, tc.want)
			}
		})
	}
}
