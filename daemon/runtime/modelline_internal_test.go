package runtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// sdkModelFields are the required fields of the SDK's model request models
// (dify_plugin/core/entities/plugin/request.py), by action: the field and
// the JSON kinds it accepts ("null" where the field is `T | None` without a
// default, which pydantic requires present). Fields with defaults (stream)
// and other keys are not required.
var sdkModelFields = func() map[string]map[string][]string {
	base := func(extra map[string][]string) map[string][]string {
		m := map[string][]string{"user_id": {"string"}, "provider": {"string"}, "model_type": {"string"},
			"model": {"string"}, "credentials": {"object"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	return map[string]map[string][]string{
		protocol.ActionInvokeLLM: base(map[string][]string{"prompt_messages": {"array"}, "model_parameters": {"object"},
			"stop": {"array", "null"}, "tools": {"array", "null"}}),
		protocol.ActionGetLLMNumTokens:           base(map[string][]string{"prompt_messages": {"array"}, "tools": {"array", "null"}}),
		protocol.ActionInvokeTextEmbedding:       base(map[string][]string{"texts": {"array"}}),
		protocol.ActionGetTextEmbeddingNumTokens: base(map[string][]string{"texts": {"array"}}),
		protocol.ActionInvokeRerank: base(map[string][]string{"query": {"string"}, "docs": {"array"},
			"score_threshold": {"number", "null"}, "top_n": {"number", "null"}}),
		protocol.ActionInvokeTTS:                   base(map[string][]string{"content_text": {"string"}, "voice": {"string"}, "tenant_id": {"string"}}),
		protocol.ActionGetTTSModelVoices:           base(map[string][]string{"language": {"string", "null"}}),
		protocol.ActionInvokeSpeech2Text:           base(map[string][]string{"file": {"string"}}),
		protocol.ActionInvokeModeration:            base(map[string][]string{"text": {"string"}}),
		protocol.ActionValidateProviderCredentials: {"user_id": {"string"}, "provider": {"string"}, "credentials": {"object"}},
		protocol.ActionValidateModelCredentials:    base(nil),
		protocol.ActionGetAIModelSchemas:           base(nil),
	}
}()

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// bareModelRequests are model requests with nothing but what the API
// requires of a caller: every optional field left empty.
func bareModelRequests() map[string]*protocol.RequestData {
	out := map[string]*protocol.RequestData{}
	for action := range sdkModelFields {
		mr := &protocol.ModelRequest{ModelType: "llm", Model: "m"}
		switch action {
		case protocol.ActionInvokeRerank:
			mr.Query = "q"
		case protocol.ActionInvokeTTS:
			mr.ContentText, mr.Voice, mr.TenantID = "hi", "alloy", "t1"
		case protocol.ActionInvokeSpeech2Text:
			mr.File = "6869"
		case protocol.ActionInvokeModeration:
			mr.Text = "t"
		case protocol.ActionValidateProviderCredentials:
			mr = &protocol.ModelRequest{}
		}
		out[action] = &protocol.RequestData{UserID: "u1", Type: protocol.TypeModel, Action: action, Provider: "p", ModelRequest: mr}
	}
	return out
}

// TestModelRequestLineSDK pins every model request line to what the SDK's
// request models accept, whatever the caller left empty, without changing
// the caller's request.
func TestModelRequestLineSDK(t *testing.T) {
	for action, req := range bareModelRequests() {
		t.Run(action, func(t *testing.T) {
			before := *req.ModelRequest
			line, err := requestLine("s1", req)
			if err != nil {
				t.Fatal(err)
			}
			var msg struct {
				Event string         `json:"event"`
				Data  map[string]any `json:"data"`
			}
			if err := json.Unmarshal(line, &msg); err != nil || msg.Event != protocol.EventRequest {
				t.Fatalf("line %s: %v", line, err)
			}
			if msg.Data["type"] != protocol.TypeModel || msg.Data["action"] != action {
				t.Fatalf("type/action of %s", line)
			}
			for field, kinds := range sdkModelFields[action] {
				v, ok := msg.Data[field]
				if !ok {
					t.Fatalf("the SDK refuses %s: %s: Field required", line, field)
				}
				if k := jsonKind(v); !slices.Contains(kinds, k) {
					t.Fatalf("the SDK refuses %s: %s is a JSON %s, want %v", line, field, k, kinds)
				}
			}
			if _, ok := msg.Data["credential_type"]; ok {
				t.Fatalf("model line carries credential_type: %s", line)
			}
			if fmt.Sprint(*req.ModelRequest) != fmt.Sprint(before) {
				t.Fatalf("requestLine changed the caller's request: %+v", req.ModelRequest)
			}
		})
	}
}

// TestModelRequestLineToolsParameters: a tool offered without a parameters
// schema is sent with an empty one (the SDK requires the object).
func TestModelRequestLineToolsParameters(t *testing.T) {
	req := bareModelRequests()[protocol.ActionInvokeLLM]
	req.Tools = []protocol.PromptMessageTool{{Name: "get_weather"}}
	line, _ := requestLine("s1", req)
	var msg struct {
		Data struct {
			Tools []map[string]any `json:"tools"`
		} `json:"data"`
	}
	_ = json.Unmarshal(line, &msg)
	if len(msg.Data.Tools) != 1 || jsonKind(msg.Data.Tools[0]["parameters"]) != "object" || msg.Data.Tools[0]["description"] != "" {
		t.Fatalf("tools sent as %s", line)
	}
	if req.Tools[0].Parameters != nil {
		t.Fatal("requestLine changed the caller's tools")
	}
}
