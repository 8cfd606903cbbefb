package callback_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/callback"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

const demo = "plugboard/demo_model/demo_model"

// Env is the service over a real daemon running demo_model and gotools, on
// a fresh store.
type Env struct {
	Svc   *callback.Service
	Store *store.DB
	Creds *store.Credentials
	Model *models.Service
}

func MustEnv(tb testing.TB) *Env {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the example plugins under a daemon")
	}
	cl := apptest.MustDaemon(tb)
	apptest.MustInstallExample(tb, cl, "demo_model")
	apptest.MustInstallExample(tb, cl, "gotools")
	db := apptest.MustStore(tb)
	keys, err := secret.Open(context.Background(), filepath.Join(tb.TempDir()), "", db)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := models.New(models.Config{Store: db, Daemon: cl, Keys: keys, Logger: log})
	runs := invoke.New(invoke.Config{Store: db, Daemon: cl, Keys: keys, Logger: log})
	tb.Cleanup(runs.Close)
	svc := callback.New(callback.Config{Store: db, Daemon: cl, Models: ms, Invoke: runs, Logger: log, BaseURL: "http://127.0.0.1:9/"})
	return &Env{Svc: svc, Store: db, Creds: db.Credentials(keys), Model: ms}
}

// call answers one call back of the callbacks plugin and returns the
// chunks it emitted, as JSON.
func (e *Env) call(tb testing.TB, path string, body map[string]any) ([]string, error) {
	tb.Helper()
	body["tenant_id"], body["user_id"] = "default", "alice"
	raw, _ := json.Marshal(body)
	var out []string
	err := e.Svc.Handle(context.Background(), &callback.Call{PluginID: "plugboard/callbacks", Depth: 1, Path: path, Body: raw},
		func(v any) error {
			b, err := json.Marshal(v)
			out = append(out, string(b))
			return err
		})
	return out, err
}

func TestModelCalls(t *testing.T) {
	e := MustEnv(t)
	t.Run("OKLLM", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathLLM, map[string]any{"provider": demo, "model": "demo-chat", "model_type": "llm",
			"mode": "chat", "completion_params": map[string]any{"delay_ms": 0},
			"prompt_messages": []any{map[string]any{"role": "user", "content": "hello there"}}})
		all := strings.Join(chunks, "")
		if err != nil || len(chunks) < 2 || !strings.Contains(all, "You said") || !strings.Contains(all, `"delta"`) {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	t.Run("ErrProviderName", func(t *testing.T) {
		_, err := e.call(t, innerapi.PathLLM, map[string]any{"provider": "demo_model", "model": "demo-chat"})
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "author/plugin/provider") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKStructured", func(t *testing.T) {
		// demo-chat quotes the user's message, which here is the JSON.
		chunks, err := e.call(t, innerapi.PathLLMStructuredOutput, map[string]any{"provider": demo, "model": "demo-chat",
			"completion_params": map[string]any{"delay_ms": 0}, "structured_output_schema": map[string]any{"type": "object"},
			"prompt_messages": []any{map[string]any{"role": "user", "content": `{"city":"Paris"}`}}})
		if err != nil || len(chunks) < 2 || !strings.Contains(chunks[len(chunks)-1], `"structured_output":{"city":"Paris"}`) ||
			strings.Contains(chunks[0], "structured_output") {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	t.Run("ErrStructuredNotJSON", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathLLMStructuredOutput, map[string]any{"provider": demo, "model": "demo-chat",
			"completion_params": map[string]any{"delay_ms": 0}, "structured_output_schema": map[string]any{"type": "object"},
			"prompt_messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		if err == nil || !strings.Contains(err.Error(), "Failed to parse structured output") || len(chunks) == 0 {
			t.Fatalf("chunks %v, err %v; want the demo's text streamed, then a parse error", chunks, err)
		}
	})
	t.Run("OKTextEmbedding", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathTextEmbedding, map[string]any{"provider": demo, "model": "demo-embedding",
			"texts": []string{"a b", "c"}, "input_type": "document"})
		var res struct{ Embeddings [][]float64 }
		if err != nil || len(chunks) != 1 || json.Unmarshal([]byte(chunks[0]), &res) != nil || len(res.Embeddings) != 2 {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	t.Run("OKRerank", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathRerank, map[string]any{"provider": demo, "model": "demo-rerank",
			"query": "red apple", "docs": []string{"a red apple", "a blue sky"}, "top_n": 2})
		if err != nil || len(chunks) != 1 || !strings.Contains(chunks[0], `"docs":[{"index":0`) {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	t.Run("ErrNoSuchModelType", func(t *testing.T) {
		_, err := e.call(t, innerapi.PathModeration, map[string]any{"provider": demo, "model": "demo-chat", "text": "x"})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND || !strings.Contains(err.Error(), "moderation") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKSummaryShortAsIs", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathSummary, map[string]any{"text": "short", "instruction": "x"})
		if err != nil || len(chunks) != 1 || chunks[0] != `{"summary":"short"}` {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	long := strings.Repeat("Plugboard runs plugins. ", 60)
	t.Run("ErrSummaryNoDefault", func(t *testing.T) {
		_, err := e.call(t, innerapi.PathSummary, map[string]any{"text": long})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND || !strings.Contains(err.Error(), "default LLM") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKSummary", func(t *testing.T) {
		ref := models.ModelRef{PluginID: "plugboard/demo_model", Provider: "demo_model", ModelType: "llm", Model: "demo-chat"}
		if err := e.Model.SetDefault(context.Background(), "test", ref); err != nil {
			t.Fatal(err)
		}
		chunks, err := e.call(t, innerapi.PathSummary, map[string]any{"text": long, "instruction": "be brief"})
		if err != nil || len(chunks) != 1 || !strings.Contains(chunks[0], "Demo model") {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
}

func TestToolCall(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	if _, err := e.Creds.CreateCredential(ctx, "test", store.CredentialInput{PluginID: "plugboard/gotools", Provider: "gotools",
		Name: "k", Secrets: map[string]string{"api_key": "demo-Secret-42"}}); err != nil {
		t.Fatal(err)
	}
	t.Run("OKStoredCredential", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathTool, map[string]any{"tool_type": "builtin", "provider": "plugboard/gotools/gotools",
			"tool": "whoami", "tool_parameters": map[string]any{}})
		all := strings.Join(chunks, "")
		if err != nil || !strings.Contains(all, `"type":"text"`) || !strings.Contains(all, "You are alice") || strings.Contains(all, "Secret-42") {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
		runs, _, err := e.Store.FindRuns(ctx, store.RunFilter{})
		if err != nil || len(runs) == 0 || runs[0].Tool != "whoami" || runs[0].Username != "alice" {
			t.Fatalf("runs %+v %v: the nested run is recorded as the playground's are", runs, err)
		}
	})
	t.Run("OKBareProviderJSON", func(t *testing.T) {
		chunks, err := e.call(t, innerapi.PathTool, map[string]any{"provider": "gotools", "tool": "json_echo",
			"tool_parameters": map[string]any{"payload": `{"a":1}`}})
		if err != nil || len(chunks) == 0 || !strings.Contains(strings.Join(chunks, ""), `"json_object"`) {
			t.Fatalf("chunks %v, err %v", chunks, err)
		}
	})
	t.Run("ErrBadParameter", func(t *testing.T) {
		_, err := e.call(t, innerapi.PathTool, map[string]any{"provider": "plugboard/gotools/gotools", "tool": "whoami",
			"tool_parameters": map[string]any{"reveal": "yes"}})
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "reveal must be true or false") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrWorkflowTool", func(t *testing.T) {
		_, err := e.call(t, innerapi.PathTool, map[string]any{"tool_type": "workflow", "provider": "x", "tool": "y"})
		if err == nil || !strings.Contains(err.Error(), "not available in Plugboard") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestUnavailable(t *testing.T) {
	svc := callback.New(callback.Config{Store: apptest.MustStore(t)})
	for _, path := range []string{innerapi.PathApp, innerapi.PathFetchApp, innerapi.PathParameterExtractor, innerapi.PathQuestionClassifier} {
		err := svc.Handle(context.Background(), &callback.Call{PluginID: "p/q", Path: path, Body: []byte(`{}`)}, func(any) error { return nil })
		if err == nil || !strings.HasSuffix(err.Error(), "is not available in Plugboard.") {
			t.Errorf("%s: err %v", path, err)
		}
	}
}

func TestUpload(t *testing.T) {
	db := apptest.MustStore(t)
	svc := callback.New(callback.Config{Store: db, BaseURL: "http://127.0.0.1:8080", MaxFile: 10})
	ctx := context.Background()
	var got map[string]string
	err := svc.Handle(ctx, &callback.Call{PluginID: "plugboard/callbacks", Depth: 1, Path: innerapi.PathUploadFile,
		Body: []byte(`{"filename":"../notes.txt","mimetype":"text/plain; charset=utf-8","user_id":"alice"}`)},
		func(v any) error { got = v.(map[string]string); return nil })
	url, ok := strings.CutPrefix(got["url"], "http://127.0.0.1:8080"+callback.UploadPath)
	if err != nil || !ok || len(url) != 64 {
		t.Fatalf("answer %v, err %v", got, err)
	}
	t.Run("ErrTooLarge", func(t *testing.T) {
		if _, err := svc.Upload(ctx, url, []byte("12345678901"), ""); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		f, err := svc.Upload(ctx, url, []byte("hello"), "")
		if err != nil || f.Name != "notes.txt" || f.Size != 5 || f.Extension != "txt" || f.MIMEType != "text/plain" || f.Type != "document" ||
			!strings.HasPrefix(f.PreviewURL, "http://127.0.0.1:8080"+callback.DownloadPath) || !strings.HasSuffix(f.PreviewURL, "/notes.txt") {
			t.Fatalf("file %+v, err %v", f, err)
		}
		token := strings.Split(strings.TrimPrefix(f.PreviewURL, "http://127.0.0.1:8080"+callback.DownloadPath), "/")[0]
		pf, err := svc.File(ctx, token)
		if err != nil || string(pf.Data) != "hello" {
			t.Fatalf("download %+v %v", pf, err)
		}
	})
	t.Run("ErrSpent", func(t *testing.T) {
		if _, err := svc.Upload(ctx, url, []byte("again"), ""); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKAudited", func(t *testing.T) {
		entries, _, err := db.FindAuditEntries(ctx, store.AuditFilter{Action: callback.AuditAction})
		if err != nil || len(entries) < 2 || entries[len(entries)-1].Actor != "plugin plugboard/callbacks" ||
			!strings.Contains(entries[len(entries)-1].Target, "upload/file/request notes.txt") {
			t.Fatalf("entries %+v %v", entries, err)
		}
	})
	t.Run("ErrNoFilename", func(t *testing.T) {
		err := svc.Handle(ctx, &callback.Call{PluginID: "p/q", Path: innerapi.PathUploadFile, Body: []byte(`{"mimetype":"text/plain"}`)},
			func(any) error { return nil })
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "filename is required") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestParseStructured(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want string
	}{
		"OKPlain":  {`{"a":1}`, "1"},
		"OKFenced": {"```json\n{\"a\":2}\n```", "2"},
		"OKWords":  {`Sure: {"a":3} hope it helps`, "3"},
	} {
		t.Run(name, func(t *testing.T) {
			obj, err := callback.ParseStructured(tc.in)
			if err != nil || jsonOf(obj["a"]) != tc.want {
				t.Fatalf("%v %v", obj, err)
			}
		})
	}
	t.Run("ErrNotObject", func(t *testing.T) {
		if _, err := callback.ParseStructured(`[1,2]`); err == nil || !strings.Contains(err.Error(), "Failed to parse structured output") {
			t.Fatalf("err %v", err)
		}
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
