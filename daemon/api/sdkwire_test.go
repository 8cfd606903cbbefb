package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

const pytoolsID = "plugboard/pytools"

// pytools is one daemon with the Python example installed: it validates
// every request as Dify's SDK does and refuses what the SDK would refuse.
var pytools struct {
	once sync.Once
	d    *daemon
	err  error
}

// MustPytools returns the daemon with pytools installed.
func MustPytools(tb testing.TB) *daemon {
	tb.Helper()
	pytools.once.Do(func() {
		data, _, err := pkgfmt.Pack(os.DirFS(filepath.Join(repoRoot, "examples", "plugins", "pytools")), pkgfmt.DefaultLimits())
		if err != nil {
			pytools.err = err
			return
		}
		pytools.d, pytools.err = startDaemon(filepath.Join(work, "pytools"), api.Config{APIKey: testKey})
		if pytools.err == nil {
			_, pytools.err = pytools.d.install(data)
		}
	})
	if pytools.err != nil {
		tb.Fatal(pytools.err)
	}
	return pytools.d
}

// invokeRaw posts a tool/invoke body as the README's curl example does and
// returns the status and the SSE body.
func invokeRaw(tb testing.TB, d *daemon, body string) (int, string) {
	tb.Helper()
	return rawPost(tb, d, "dispatch/tool/invoke", body, map[string]string{
		"X-Api-Key": testKey, "X-Plugin-ID": pytoolsID, "Content-Type": "application/json"})
}

// requestInfo is what pytools' request_info tool saw of its invocation.
type requestInfo struct {
	UserID         string   `json:"user_id"`
	CredentialType string   `json:"credential_type"`
	Credentials    []string `json:"credentials"`
}

// mustRequestInfo decodes the single json frame of a request_info stream.
func mustRequestInfo(tb testing.TB, sse string) requestInfo {
	tb.Helper()
	var frame struct {
		Code int `json:"code"`
		Data struct {
			Type    string `json:"type"`
			Message struct {
				JSON requestInfo `json:"json_object"`
			} `json:"message"`
		} `json:"data"`
		Message string `json:"message"`
	}
	line, _, _ := strings.Cut(strings.TrimPrefix(sse, "data: "), "\n")
	if err := json.Unmarshal([]byte(line), &frame); err != nil || frame.Code != 0 || frame.Data.Type != "json" {
		tb.Fatalf("stream = %q (code %d, %v), want one json frame", sse, frame.Code, err)
	}
	return frame.Data.Message.JSON
}

// TestSDKCredentialType invokes a plugin that validates requests as Dify's
// SDK does: the daemon must send a credential_type it accepts.
func TestSDKCredentialType(t *testing.T) {
	d := MustPytools(t)
	t.Run("READMECurl", func(t *testing.T) { // no credential_type, no tool_parameters: Dify's defaults
		status, body := invokeRaw(t, d, `{"user_id":"u1","data":{"provider":"pytools","tool":"request_info","credentials":{}}}`)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		if got := mustRequestInfo(t, body); got.CredentialType != "api-key" || got.UserID != "u1" {
			t.Fatalf("plugin saw %+v, want credential_type api-key for u1", got)
		}
	})
	t.Run("EmptyMeansAPIKey", func(t *testing.T) {
		_, body := invokeRaw(t, d, `{"user_id":"u1","data":{"provider":"pytools","tool":"request_info","tool_parameters":{},"credentials":{"k":"v"},"credential_type":""}}`)
		if got := mustRequestInfo(t, body); got.CredentialType != "api-key" || len(got.Credentials) != 1 {
			t.Fatalf("plugin saw %+v", got)
		}
	})
	t.Run("OAuth2Kept", func(t *testing.T) {
		_, body := invokeRaw(t, d, `{"user_id":"u1","data":{"provider":"pytools","tool":"request_info","credential_type":"oauth2"}}`)
		if got := mustRequestInfo(t, body); got.CredentialType != "oauth2" {
			t.Fatalf("plugin saw %+v, want oauth2", got)
		}
	})
	t.Run("ErrUnknownType", func(t *testing.T) {
		status, body := invokeRaw(t, d, `{"user_id":"u1","data":{"provider":"pytools","tool":"echo","tool_parameters":{"text":"x"},"credential_type":"password"}}`)
		if status != http.StatusBadRequest || !strings.Contains(body, "data.credential_type") || !strings.Contains(body, "password") {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("ClientEcho", func(t *testing.T) {
		s, err := d.c.InvokeTool(context.Background(), pytoolsID, apispec.InvokeToolData{
			Provider: "pytools", Tool: "echo", ToolParameters: map[string]any{"text": "hello world"}}, "u1")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		msgs, err := drain(s)
		if err != nil || len(msgs) != 2 || msgs[0].Text+msgs[1].Text != "hello world" {
			t.Fatalf("messages = %v, %v", msgs, err)
		}
	})
}

// TestSDKRuntimeParameters: get_runtime_parameters as Dify answers it, for
// each way an SDK plugin replies (a list, only end, an error then end).
func TestSDKRuntimeParameters(t *testing.T) {
	d := MustPytools(t)
	ctx := context.Background()
	t.Run("Answered", func(t *testing.T) {
		params, err := d.c.RuntimeParameters(ctx, pytoolsID, "pytools", "echo", nil)
		if err != nil || params == nil || len(params) != 0 {
			t.Fatalf("parameters = %#v, %v", params, err)
		}
	})
	t.Run("OnlyEnd", func(t *testing.T) {
		status, body := rawPost(t, d, "dispatch/tool/get_runtime_parameters",
			`{"user_id":"u1","data":{"provider":"pytools","tool":"word_count","credentials":{}}}`,
			map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": pytoolsID, "Content-Type": "application/json"})
		want := `data: {"code":0,"message":"success","data":{"parameters":[]}}`
		if status != http.StatusOK || strings.TrimSpace(body) != want {
			t.Fatalf("status %d body %q, want %q", status, body, want)
		}
	})
	t.Run("ErrNotImplemented", func(t *testing.T) {
		_, err := d.c.RuntimeParameters(ctx, pytoolsID, "pytools", "request_info", nil)
		ce := MustClientError(t, err, http.StatusOK, apispec.ErrInvoke)
		if typ, msg := ce.PluginError(); typ != "ValueError" || !strings.Contains(msg, "does not implement runtime parameters") {
			t.Fatalf("plugin error = %s: %s", typ, msg)
		}
	})
}

// dispatchRaw posts body to a dispatch route of pytools and returns the
// status and the SSE body.
func dispatchRaw(tb testing.TB, d *daemon, route, body string) (int, string) {
	tb.Helper()
	return rawPost(tb, d, "dispatch/tool/"+route, body, map[string]string{
		"X-Api-Key": testKey, "X-Plugin-ID": pytoolsID, "Content-Type": "application/json"})
}

// pluginErrorFrame decodes an SSE body that is one error frame and returns
// the plugin's error as the frame carries it (Dify's double-encoded
// PluginInvokeError message).
func pluginErrorFrame(tb testing.TB, sse string) (code int, errorType string, inner map[string]any) {
	tb.Helper()
	var frame struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	body := strings.TrimSpace(sse)
	if strings.Count(body, "data: ") != 1 || json.Unmarshal([]byte(strings.TrimPrefix(body, "data: ")), &frame) != nil {
		tb.Fatalf("stream = %q, want one error frame", sse)
	}
	var outer apispec.ErrorBody
	if err := json.Unmarshal([]byte(frame.Message), &outer); err != nil {
		tb.Fatalf("frame message %q is not an error body: %v", frame.Message, err)
	}
	if err := json.Unmarshal([]byte(outer.Message), &inner); err != nil {
		tb.Fatalf("error message %q is not the plugin's error JSON: %v", outer.Message, err)
	}
	return frame.Code, outer.ErrorType, inner
}

// TestSDKValidateCredentials: validate_credentials as Dify's API reads it,
// for each way an SDK plugin replies (a result, only end, an error then end):
// never an empty success.
func TestSDKValidateCredentials(t *testing.T) {
	d := MustPytools(t)
	ctx := context.Background()
	t.Run("Valid", func(t *testing.T) {
		ok, err := d.c.ValidateCredentials(ctx, pytoolsID, "pytools", nil)
		if err != nil || !ok {
			t.Fatalf("validate = %v, %v", ok, err)
		}
	})
	t.Run("OnlyEndIsFalse", func(t *testing.T) {
		status, body := dispatchRaw(t, d, "validate_credentials",
			`{"user_id":"u1","data":{"provider":"pytools","credentials":{"validation":"silent"}}}`)
		want := `data: {"code":0,"message":"success","data":{"result":false}}`
		if status != http.StatusOK || strings.TrimSpace(body) != want {
			t.Fatalf("status %d body %q, want %q", status, body, want)
		}
		ok, err := d.c.ValidateCredentials(ctx, pytoolsID, "pytools", map[string]any{"validation": "silent"})
		if err != nil || ok {
			t.Fatalf("client validate = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("ErrRejected", func(t *testing.T) {
		_, body := dispatchRaw(t, d, "validate_credentials",
			`{"user_id":"u1","data":{"provider":"pytools","credentials":{"validation":"rejected"}}}`)
		code, typ, inner := pluginErrorFrame(t, body)
		if code != apispec.CodeInternal || typ != apispec.ErrInvoke ||
			inner["error_type"] != "ToolProviderCredentialValidationError" ||
			!strings.Contains(fmt.Sprint(inner["message"]), "rejected") || !reflect.DeepEqual(inner["args"], map[string]any{}) {
			t.Fatalf("frame = %d %s %v", code, typ, inner)
		}
		ok, err := d.c.ValidateCredentials(ctx, pytoolsID, "pytools", map[string]any{"validation": "rejected"})
		ce := MustClientError(t, err, http.StatusOK, apispec.ErrInvoke)
		if et, _ := ce.PluginError(); ok || et != "ToolProviderCredentialValidationError" {
			t.Fatalf("client validate = %v, %s", ok, et)
		}
	})
}

// TestSDKErrorShape pins how an SDK plugin's error reaches the caller: the
// plugin's {"error_type", "message", "args"} (args {} as the SDK's IOServer
// sends it) inside Dify's PluginInvokeError frame, and nothing after it.
func TestSDKErrorShape(t *testing.T) {
	d := MustPytools(t)
	_, body := dispatchRaw(t, d, "get_runtime_parameters",
		`{"user_id":"u1","data":{"provider":"pytools","tool":"request_info","credentials":{}}}`)
	code, typ, inner := pluginErrorFrame(t, body)
	want := map[string]any{"error_type": "ValueError", "message": "Tool `request_info` does not implement runtime parameters", "args": map[string]any{}}
	if code != apispec.CodeInternal || typ != apispec.ErrInvoke || !reflect.DeepEqual(inner, want) {
		t.Fatalf("frame = %d %s %#v, want %d %s %#v", code, typ, inner, apispec.CodeInternal, apispec.ErrInvoke, want)
	}
}

// TestSDKNoUnreadableLines: Dify's SDK answers any line it cannot read (an
// empty one too) with an instance-level error; after requests of every
// action the plugin has logged none.
func TestSDKNoUnreadableLines(t *testing.T) {
	d := MustPytools(t)
	ctx := context.Background()
	if _, err := d.c.ValidateCredentials(ctx, pytoolsID, "pytools", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.c.RuntimeParameters(ctx, pytoolsID, "pytools", "echo", nil); err != nil {
		t.Fatal(err)
	}
	_, body := invokeRaw(t, d, `{"user_id":"u1","data":{"provider":"pytools","tool":"request_info"}}`)
	mustRequestInfo(t, body)
	logs, err := d.c.PluginLogs(ctx, pytoolsID, 500)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, e := range logs {
		seen = seen || strings.Contains(e.Message, "Installed tool")
		if e.Source == "log" && e.Level == "error" {
			t.Errorf("the plugin could not read a line the daemon sent: %s", e.Message)
		}
	}
	if !seen {
		t.Fatalf("the plugin's log lacks its start lines: %v", logs)
	}
}
