package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// MustClientError asserts err is a *client.Error with the status and type.
func MustClientError(tb testing.TB, err error, status int, errType string) *client.Error {
	tb.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		tb.Fatalf("error = %v (%T), want *client.Error", err, err)
	}
	if ce.Status != status || ce.Type != errType {
		tb.Fatalf("error = status %d type %s (%s), want %d %s", ce.Status, ce.Type, ce.Message, status, errType)
	}
	return ce
}

// rawPost posts body to a tenant route with the given headers and returns
// the status and body.
func rawPost(tb testing.TB, d *daemon, path, body string, header map[string]string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, d.srv.URL+"/plugin/default/"+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestHealth(t *testing.T) {
	d, _ := MustShared(t)
	h, err := d.c.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Plugins < 1 {
		t.Fatalf("health = %+v", h)
	}
}

func TestAuth(t *testing.T) {
	d, _ := MustShared(t)
	const want = `{"code":-401,"message":"{\"message\":\"unauthorized\",\"error_type\":\"PluginDaemonUnauthorizedError\",\"args\":null}","data":null}`
	for name, key := range map[string]string{"ErrWrongKey": "wrong", "ErrMissingKey": ""} {
		t.Run(name, func(t *testing.T) {
			status, body := rawPost(t, d, "management/uninstall", `{}`, map[string]string{"X-Api-Key": key})
			if status != http.StatusUnauthorized || strings.TrimSpace(body) != want {
				t.Fatalf("reply = %d %s", status, body)
			}
		})
	}
	t.Run("ErrWrongKeyClient", func(t *testing.T) {
		_, err := client.New(d.srv.URL, "wrong").List(context.Background(), 1, 10)
		MustClientError(t, err, http.StatusUnauthorized, apispec.ErrUnauthorized)
	})
	t.Run("ErrBadTenant", func(t *testing.T) {
		_, err := client.New(d.srv.URL, testKey, client.WithTenant("a.b")).List(context.Background(), 1, 10)
		MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
	})
}

func TestRoutes(t *testing.T) {
	d, _ := MustShared(t)
	t.Run("ErrUnknownRoute", func(t *testing.T) {
		status, body := rawPost(t, d, "management/nope", `{}`, map[string]string{"X-Api-Key": testKey})
		if status != http.StatusNotFound || !strings.Contains(body, `"code":-404`) {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		status, body := rawPost(t, d, "management/list", `{}`, map[string]string{"X-Api-Key": testKey})
		if status != http.StatusMethodNotAllowed || !strings.Contains(body, `"code":-400`) {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
	t.Run("ErrPageSize", func(t *testing.T) {
		_, err := d.c.List(context.Background(), 1, 100000)
		ce := MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
		if !strings.Contains(ce.Message, "page_size") {
			t.Fatalf("message = %q", ce.Message)
		}
	})
}

func TestUpload(t *testing.T) {
	d, uid := MustShared(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		up, err := d.c.UploadPackage(ctx, "gotools.difypkg", bytes.NewReader(plugin(t, "gotools")))
		if err != nil {
			t.Fatal(err)
		}
		if up.UniqueIdentifier != uid || up.Manifest == nil || up.Manifest.Name != "gotools" {
			t.Fatalf("upload = %+v", up)
		}
	})
	t.Run("ErrPackageTooLarge", func(t *testing.T) {
		small, err := startDaemon(t.TempDir(), api.Config{APIKey: testKey, MaxUpload: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer small.close()
		_, err = small.c.UploadPackage(ctx, "big.difypkg", bytes.NewReader(plugin(t, "gotools")))
		ce := MustClientError(t, err, http.StatusRequestEntityTooLarge, apispec.ErrBadRequest)
		if !strings.Contains(ce.Message, "1024 bytes") {
			t.Fatalf("message = %q", ce.Message)
		}
	})
	t.Run("ErrMalformedPackage", func(t *testing.T) {
		_, err := d.c.UploadPackage(ctx, "bad.difypkg", strings.NewReader("this is not a zip"))
		ce := MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
		if ce.Message == "" {
			t.Fatal("empty message")
		}
	})
	t.Run("ErrNoField", func(t *testing.T) {
		status, body := rawPost(t, d, "management/install/upload/package",
			"--zz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--zz--\r\n",
			map[string]string{"X-Api-Key": testKey, "Content-Type": "multipart/form-data; boundary=zz"})
		if status != http.StatusBadRequest || !strings.Contains(body, "dify_pkg") {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
}

func TestManagement(t *testing.T) {
	d, uid := MustShared(t)
	ctx := context.Background()
	t.Run("List", func(t *testing.T) {
		page, err := d.c.List(ctx, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 || len(page.List) != 1 || page.List[0].PluginUniqueIdentifier != uid {
			t.Fatalf("list = %+v", page)
		}
	})
	t.Run("Tools", func(t *testing.T) {
		tools, err := d.c.Tools(ctx, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(tools) != 1 || tools[0].Provider != "gotools" {
			t.Fatalf("tools = %+v", tools)
		}
		tool, err := d.c.Tool(ctx, gotoolID, "gotools")
		if err != nil || tool.PluginID != gotoolID {
			t.Fatalf("tool = %+v, %v", tool, err)
		}
	})
	t.Run("ErrToolNotFound", func(t *testing.T) {
		_, err := d.c.Tool(ctx, gotoolID, "nope")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("Manifest", func(t *testing.T) {
		m, err := d.c.FetchManifest(ctx, uid)
		if err != nil || m.Author != "plugboard" {
			t.Fatalf("manifest = %+v, %v", m, err)
		}
		dec, err := d.c.DecodeFromIdentifier(ctx, uid)
		if err != nil || dec.UniqueIdentifier != uid || dec.Manifest.Name != "gotools" {
			t.Fatalf("decode = %+v, %v", dec, err)
		}
	})
	t.Run("Readme", func(t *testing.T) {
		readme, err := d.c.FetchReadme(ctx, uid, "")
		if err != nil || !strings.HasPrefix(readme, "# Go Tools") {
			t.Fatalf("readme = %.40q, %v", readme, err)
		}
		translated, err := d.c.FetchReadme(ctx, uid, "zh_Hans")
		if err != nil || translated != readme {
			t.Fatalf("readme without that translation = %.40q, %v; want README.md", translated, err)
		}
	})
	t.Run("ErrReadmeUnknownPackage", func(t *testing.T) {
		_, err := d.c.FetchReadme(ctx, "nobody/nothing:0.0.1@"+strings.Repeat("0", 64), "")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("ErrManifestMissingQuery", func(t *testing.T) {
		_, err := d.c.FetchManifest(ctx, "")
		MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
	})
	t.Run("Status", func(t *testing.T) {
		st, err := d.c.PluginStatus(ctx, gotoolID)
		if err != nil || st.State != apispec.StateRunning {
			t.Fatalf("status = %+v, %v", st, err)
		}
	})
	t.Run("ErrStatusUnknownPlugin", func(t *testing.T) {
		_, err := d.c.PluginStatus(ctx, "nobody/nothing")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("Logs", func(t *testing.T) {
		if _, err := d.c.PluginLogs(ctx, gotoolID, 10); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Asset", func(t *testing.T) {
		m, err := d.c.FetchManifest(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		data, ctype, err := d.c.Asset(ctx, uid, m.Icon)
		if err != nil || len(data) == 0 || ctype == "" {
			t.Fatalf("asset %s = %d bytes %q, %v", m.Icon, len(data), ctype, err)
		}
	})
	t.Run("Tasks", func(t *testing.T) {
		tasks, err := d.c.Tasks(ctx, 1, 10)
		if err != nil || len(tasks) == 0 || tasks[0].Status != apispec.TaskSuccess {
			t.Fatalf("tasks = %+v, %v", tasks, err)
		}
		task, err := d.c.Task(ctx, tasks[0].ID)
		if err != nil || task.Plugins[0].PluginID != gotoolID {
			t.Fatalf("task = %+v, %v", task, err)
		}
	})
	t.Run("ErrTaskNotFound", func(t *testing.T) {
		_, err := d.c.Task(ctx, "no-such-task")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrNotFound)
	})
}

// invoke starts a gotools tool on the shared daemon.
func invoke(t *testing.T, tool string, params map[string]any) *client.ToolStream {
	t.Helper()
	d, _ := MustShared(t)
	s, err := d.c.InvokeTool(context.Background(), gotoolID, apispec.InvokeToolData{
		Provider: "gotools", Tool: tool, ToolParameters: params, CredentialType: "api-key",
		Credentials: map[string]any{"api_key": "demo-secret"},
	}, "u1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestInvoke(t *testing.T) {
	t.Run("OKStreamText", func(t *testing.T) {
		d, _ := MustShared(t)
		s := invoke(t, "stream_text", map[string]any{"text": "one two three", "delay_ms": 200})
		first, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		// The first word arrived while the tool still runs: streamed, not buffered.
		st, err := d.c.PluginStatus(context.Background(), gotoolID)
		if err != nil || st.InFlight < 1 {
			t.Fatalf("status after first word = %+v, %v", st, err)
		}
		rest, err := drain(s)
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		for _, m := range append([]*client.Message{first}, rest...) {
			if m.Type != protocol.MessageText {
				t.Fatalf("message %s, want text", m)
			}
			words = append(words, strings.TrimSpace(m.Text))
		}
		if strings.Join(words, ",") != "one,two,three" {
			t.Fatalf("words = %q", words)
		}
	})
	t.Run("OKJSONEcho", func(t *testing.T) {
		msgs, err := drain(invoke(t, "json_echo", map[string]any{"payload": map[string]any{"a": 1.0}}))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Type != protocol.MessageJSON {
			t.Fatalf("messages = %v", msgs)
		}
		if got, _ := json.Marshal(msgs[0].JSON); !strings.Contains(string(got), `"a":1`) {
			t.Fatalf("json = %s", got)
		}
	})
	t.Run("OKRenderPNG", func(t *testing.T) {
		msgs, err := drain(invoke(t, "render_png", map[string]any{"width": 300, "height": 200, "color": "red"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Type != protocol.MessageBlob || msgs[0].MIME != "image/png" {
			t.Fatalf("messages = %v", msgs)
		}
		img, err := png.Decode(bytes.NewReader(msgs[0].Blob))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
			t.Fatalf("image bounds = %v", b)
		}
	})
}

func TestInvokeErrors(t *testing.T) {
	d, _ := MustShared(t)
	ctx := context.Background()
	call := func(pluginID, provider, tool string, params map[string]any) error {
		s, err := d.c.InvokeTool(ctx, pluginID, apispec.InvokeToolData{Provider: provider, Tool: tool, ToolParameters: params}, "u1")
		if err == nil {
			s.Close()
		}
		return err
	}
	t.Run("ErrUnknownPlugin", func(t *testing.T) {
		MustClientError(t, call("nobody/nothing", "gotools", "stream_text", nil), http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("ErrUnknownProvider", func(t *testing.T) {
		MustClientError(t, call(gotoolID, "nope", "stream_text", nil), http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("ErrUnknownTool", func(t *testing.T) {
		MustClientError(t, call(gotoolID, "gotools", "nope", nil), http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("ErrMissingParameter", func(t *testing.T) {
		ce := MustClientError(t, call(gotoolID, "gotools", "stream_text", nil), http.StatusBadRequest, apispec.ErrBadRequest)
		if !strings.Contains(ce.Message, "text") {
			t.Fatalf("message = %q", ce.Message)
		}
	})
	t.Run("ErrMissingPluginID", func(t *testing.T) {
		ce := MustClientError(t, call("", "gotools", "stream_text", nil), http.StatusBadRequest, apispec.ErrBadRequest)
		if !strings.Contains(ce.Message, "X-Plugin-ID") {
			t.Fatalf("message = %q", ce.Message)
		}
	})
	hdr := map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": gotoolID, "Content-Type": "application/json; charset=utf-8"}
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		status, body := rawPost(t, d, "dispatch/tool/invoke", `{"data":`, hdr)
		if status != http.StatusBadRequest || !strings.Contains(body, "not valid JSON") {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
	t.Run("ErrWrongFieldType", func(t *testing.T) {
		status, body := rawPost(t, d, "dispatch/tool/invoke", `{"data":{"provider":5}}`, hdr)
		if status != http.StatusBadRequest || !strings.Contains(body, "provider") {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
	t.Run("ErrCallDepth", func(t *testing.T) {
		for _, depth := range []string{"6", "-1", "deep"} {
			h := map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": gotoolID, "Content-Type": "application/json",
				"X-Plugboard-Call-Depth": depth}
			status, body := rawPost(t, d, "dispatch/tool/invoke",
				`{"data":{"provider":"gotools","tool":"stream_text","tool_parameters":{"text":"a"}}}`, h)
			if status != http.StatusBadRequest || !strings.Contains(body, "X-Plugboard-Call-Depth must be a number from 0 to 5") {
				t.Fatalf("depth %s: reply = %d %s", depth, status, body)
			}
		}
		s, err := d.c.InvokeTool(client.WithCallDepth(ctx, 5), gotoolID,
			apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text", ToolParameters: map[string]any{"text": "a"}}, "u1")
		if err != nil {
			t.Fatalf("a call at the deepest depth: %v", err)
		}
		s.Close()
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		h := map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": gotoolID, "Content-Type": "text/plain"}
		status, body := rawPost(t, d, "dispatch/tool/invoke", `{}`, h)
		if status != http.StatusBadRequest || !strings.Contains(body, "application/json") {
			t.Fatalf("reply = %d %s", status, body)
		}
	})
}

func TestValidateCredentials(t *testing.T) {
	d, _ := MustShared(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		ok, err := d.c.ValidateCredentials(ctx, gotoolID, "gotools", map[string]any{"api_key": "demo-12345"})
		if err != nil || !ok {
			t.Fatalf("validate = %v, %v", ok, err)
		}
	})
	t.Run("ErrRejected", func(t *testing.T) {
		ok, err := d.c.ValidateCredentials(ctx, gotoolID, "gotools", map[string]any{"api_key": "nope"})
		if ok {
			t.Fatal("bad key accepted")
		}
		ce := MustClientError(t, err, http.StatusOK, apispec.ErrInvoke)
		if _, msg := ce.PluginError(); !strings.Contains(msg, "demo-") {
			t.Fatalf("plugin message = %q (%s)", msg, ce.Message)
		}
	})
}

func TestRuntimeParameters(t *testing.T) {
	d, _ := MustShared(t)
	// The plugin declares no runtime parameters: the answer is an empty list.
	params, err := d.c.RuntimeParameters(context.Background(), gotoolID, "gotools", "stream_text", nil)
	if err != nil || len(params) != 0 {
		t.Fatalf("parameters = %+v, %v", params, err)
	}
}

func TestDisconnectCancels(t *testing.T) {
	d := MustDaemon(t)
	d.MustInstall(t, plugin(t, "gotools"))
	ctx := context.Background()
	s, err := d.c.InvokeTool(ctx, gotoolID, apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
		ToolParameters: map[string]any{"text": strings.Repeat("word ", 1000), "delay_ms": 1000}}, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The tool would run for 1000 s; in-flight drops to 0 only through the cancel.
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		st, err := d.c.PluginStatus(wait, gotoolID)
		if err != nil {
			t.Fatalf("status: %v (in-flight never returned to 0)", err)
		}
		if st.InFlight == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
