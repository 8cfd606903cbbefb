package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// sdkField is one field of a pydantic request model of Dify's SDK
// (dify_plugin/core/entities/plugin/request.py): its JSON kind, and whether
// it has a default (a field without one is required).
type sdkField struct {
	kind       string // "str", "dict", "credential_type"
	hasDefault bool
}

// sdkModels are the models the SDK builds from a request's data, by action;
// other keys are ignored (pydantic's default).
var sdkModels = map[string]map[string]sdkField{
	protocol.ActionInvokeTool: { // ToolInvokeRequest
		"user_id": {"str", false}, "provider": {"str", false}, "tool": {"str", false},
		"credentials": {"dict", false}, "credential_type": {"credential_type", true},
		"tool_parameters": {"dict", false},
	},
	protocol.ActionValidateToolCredentials: { // ToolValidateCredentialsRequest
		"user_id": {"str", false}, "provider": {"str", false}, "credentials": {"dict", false},
	},
	protocol.ActionGetToolRuntimeParameters: { // ToolGetRuntimeParametersRequest
		"user_id": {"str", false}, "provider": {"str", false}, "tool": {"str", false},
		"credentials": {"dict", false},
	},
}

// sdkValidate reads line as the SDK's stdio reader and router do and
// returns what they would refuse.
func sdkValidate(line []byte) error {
	var msg map[string]any
	if err := json.Unmarshal(line, &msg); err != nil {
		return err
	}
	for _, k := range []string{"session_id", "event", "data"} { // indexed by the reader
		if _, ok := msg[k]; !ok {
			return fmt.Errorf("line has no %q", k)
		}
	}
	if msg["event"] != protocol.EventRequest {
		return fmt.Errorf("Invalid value for PluginInStream.Event: %v", msg["event"])
	}
	data, ok := msg["data"].(map[string]any)
	if !ok || data["type"] != protocol.TypeTool {
		return fmt.Errorf("data %v is not a tool request", msg["data"])
	}
	model := sdkModels[fmt.Sprint(data["action"])]
	if model == nil {
		return fmt.Errorf("no route for action %v", data["action"])
	}
	for name, f := range model {
		v, ok := data[name]
		if !ok {
			if !f.hasDefault {
				return fmt.Errorf("%s: Field required", name)
			}
			continue
		}
		if err := sdkCheck(f.kind, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func sdkCheck(kind string, v any) error {
	switch kind {
	case "str":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("Input should be a valid string, not %v", v)
		}
	case "dict":
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("Input should be a valid dictionary, not %v", v)
		}
	case "credential_type":
		if !slices.Contains([]any{"api-key", "oauth2", "unauthorized"}, v) {
			return fmt.Errorf("Input should be 'api-key', 'oauth2' or 'unauthorized', not %q", v)
		}
	}
	return nil
}

// TestRequestLineSDK pins every request line the daemon writes to a plugin
// to what Dify's SDK accepts, whatever the caller left empty.
func TestRequestLineSDK(t *testing.T) {
	tool := func(action string) *protocol.RequestData {
		return &protocol.RequestData{Type: protocol.TypeTool, Action: action, Provider: "p", Tool: "t"}
	}
	full := tool(protocol.ActionInvokeTool)
	full.UserID, full.CredentialType = "u1", protocol.CredentialOAuth2
	full.ToolParameters, full.Credentials = map[string]any{"a": 1}, map[string]any{"k": "v"}
	cases := []struct {
		name     string
		req      *protocol.RequestData
		credType any // the credential_type sent (nil: none)
	}{
		{"InvokeBare", tool(protocol.ActionInvokeTool), "api-key"},
		{"InvokeEmptyMaps", &protocol.RequestData{Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
			Provider: "p", Tool: "t", ToolParameters: map[string]any{}, Credentials: map[string]any{}}, "api-key"},
		{"InvokeFull", full, "oauth2"},
		{"Validate", &protocol.RequestData{Type: protocol.TypeTool, Action: protocol.ActionValidateToolCredentials,
			Provider: "p", CredentialType: "api-key"}, nil},
		{"RuntimeParameters", tool(protocol.ActionGetToolRuntimeParameters), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := *tc.req
			line, err := requestLine("s1", tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if err := sdkValidate(line); err != nil {
				t.Fatalf("the SDK refuses %s: %v", line, err)
			}
			var msg struct {
				Data map[string]any `json:"data"`
			}
			_ = json.Unmarshal(line, &msg)
			if got := msg.Data["credential_type"]; got != tc.credType {
				t.Fatalf("credential_type = %v, want %v (%s)", got, tc.credType, line)
			}
			if tc.req.CredentialType != before.CredentialType || (tc.req.ToolParameters == nil) != (before.ToolParameters == nil) {
				t.Fatalf("requestLine changed the caller's request: %+v", tc.req)
			}
		})
	}
}

// TestCancelRefusalQuiet: Dify's SDK answers each cancel line with an
// instance error; it must not fill the plugin's log (other errors must).
func TestCancelRefusalQuiet(t *testing.T) {
	ring := newLogRing(10)
	c := newConn("p", strings.NewReader(""), io.Discard, 1<<20, ring, slog.New(slog.DiscardHandler))
	c.handle([]byte(`{"event":"error","session_id":null,"data":{"error":"Invalid value for PluginInStream.Event: cancel"}}`))
	if got := ring.last(10); len(got) != 0 {
		t.Fatalf("log after the SDK's cancel refusal = %+v, want nothing", got)
	}
	c.handle([]byte(`{"event":"error","session_id":null,"data":{"error":"Invalid value for PluginInStream.Event: bogus"}}`))
	if got := ring.last(10); len(got) != 1 || !strings.Contains(got[0].Message, "bogus") {
		t.Fatalf("log after another instance error = %+v", got)
	}
}
