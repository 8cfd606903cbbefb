package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
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
