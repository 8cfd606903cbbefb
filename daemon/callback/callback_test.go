package callback_test

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/callback"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

func storageCall(opt, key, value string) call {
	req := map[string]any{"opt": opt, "key": key}
	if value != "" {
		req["value"] = value
	}
	return call{"storage", req}
}

func TestStorage(t *testing.T) {
	f := newFixture(t, allPermissions())
	got := f.run(session{},
		storageCall("set", "greeting", hex.EncodeToString([]byte("hi"))),
		storageCall("get", "greeting", ""),
		storageCall("exist", "greeting", ""),
		storageCall("del", "greeting", ""),
		storageCall("exist", "greeting", ""),
		storageCall("get", "greeting", ""),
	)
	want := []string{`{"data":"ok"}`, `{"data":"6869"}`, `{"data":true,"exist_num":1}`,
		`{"data":"ok","deleted_num":1}`, `{"data":false,"exist_num":0}`}
	for i, w := range want {
		if data := MustStruct(t, got[i]); data != w {
			t.Errorf("call %d answered %s, want %s", i, data, w)
		}
	}
	MustError(t, got[5], "load data failed, please check if the key is correct or you have not set it")

	t.Run("SurvivesRestart", func(t *testing.T) {
		f.run(session{}, storageCall("set", "kept", "00ff"))
		f.stop()
		f.start()
		if data := MustStruct(t, f.one("storage", map[string]any{"opt": "get", "key": "kept"})); data != `{"data":"00ff"}` {
			t.Fatalf("after a restart: %s", data)
		}
	})
	t.Run("NamespacedByTenant", func(t *testing.T) {
		got := f.run(session{origin: runtime.Origin{Tenant: "t2"}}, storageCall("exist", "kept", ""))
		if data := MustStruct(t, got[0]); data != `{"data":false,"exist_num":0}` {
			t.Fatalf("another tenant sees the key: %s", data)
		}
	})
	t.Run("ErrQuota", func(t *testing.T) {
		big := strings.Repeat("ab", 1025) // the manifest's 1024 bytes + 1
		MustError(t, f.one("storage", map[string]any{"opt": "set", "key": "big", "value": big}),
			"save data failed: allocated size is greater than max storage size (1024 bytes)")
		n, err := f.db.StorageUsage(context.Background(), state.Storage{Tenant: "t1", PluginID: "acme/caller"})
		if err != nil || n != 2 {
			t.Fatalf("usage after the refusal = %d (%v), want the 2 bytes of kept", n, err)
		}
	})
	t.Run("ErrKey", func(t *testing.T) {
		got := f.run(session{},
			storageCall("set", "a/../../b", "00"),
			storageCall("set", strings.Repeat("k", 257), "00"),
			storageCall("set", "k", "not hex"),
			storageCall("drop", "k", ""),
			call{"storage", map[string]any{"opt": "get"}},
			storageCall("get", "a/../../b", ""),
		)
		MustError(t, got[0], "save data failed: invalid key: path traversal attempt detected")
		MustError(t, got[1], "save data failed: key length must be less than 256 characters")
		MustError(t, got[2], "decode data failed: encoding/hex")
		MustError(t, got[3], `opt "drop" is not one of get, set, del, exist`)
		MustError(t, got[4], "unmarshal backwards invoke request failed: field key is required")
		MustError(t, got[5], "load data failed, please check if the key is correct or you have not set it")
	})
}

// TestPermissionDenied: a plugin whose manifest allows nothing is refused
// each type with Dify's message, and never reaches the platform; file
// uploads are always allowed.
func TestPermissionDenied(t *testing.T) {
	f := newFixture(t, nil)
	cases := map[string]string{
		"tool": "tool", "llm": "llm", "llm_structured_output": "llm", "system_summary": "llm",
		"text_embedding": "text-embedding", "rerank": "rerank", "tts": "tts", "speech2text": "speech2text",
		"moderation": "moderation", "app": "app", "fetch_app": "app", "node_parameter_extractor": "node",
		"node_question_classifier": "node", "storage": "storage",
	}
	var calls []call
	for typ := range cases {
		calls = append(calls, call{typ, map[string]any{}})
	}
	calls = append(calls, call{"encrypt", map[string]any{}})
	got := f.run(session{parallel: true}, calls...)
	for i, c := range calls[:len(cases)] {
		MustError(t, got[i], "permission denied, you need to enable "+cases[c.Type]+" access in plugin manifest")
	}
	MustError(t, got[len(cases)], "unsupported invoke type: encrypt")
	if n := len(f.inner.requests()); n != 0 {
		t.Fatalf("%d refused calls reached the platform", n)
	}
	t.Run("UploadAlwaysAllowed", func(t *testing.T) {
		frames := f.one("upload_file", map[string]any{"filename": "a.txt", "mimetype": "text/plain"})
		MustError(t, frames, "upload file failed: request failed: no such path") // the stand-in has no upload
	})
	t.Run("ModelEnabledButNotLLM", func(t *testing.T) {
		f.perm = map[string]any{"model": map[string]any{"enabled": true, "text_embedding": true}}
		MustError(t, f.one("llm", map[string]any{}), "permission denied, you need to enable llm access in plugin manifest")
	})
}

func TestModelSessionRefused(t *testing.T) {
	f := newFixture(t, allPermissions())
	got := f.run(session{from: "model"}, storageCall("get", "k", ""))
	MustError(t, got[0], "you can not invoke dify from model")
}

func TestMalformedInvoke(t *testing.T) {
	f := newFixture(t, allPermissions())
	for name, c := range map[string]struct {
		data any
		want string
	}{
		"ErrNoRequestID": {map[string]any{"type": "llm", "request": map[string]any{}}, "invoke dify failed: invoke request missing request_id: "},
		"ErrNoType":      {map[string]any{"backwards_request_id": "r", "request": map[string]any{}}, "invoke dify failed: invoke request missing type: "},
		"ErrRequest":     {map[string]any{"type": "llm", "backwards_request_id": "r", "request": "x"}, "invoke dify failed: invoke request missing request: "},
		"ErrNotObject":   {"text", "invoke dify failed: unmarshal invoke request failed: "},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			stream, err := f.rt.Invoke(ctx, f.spec.Key, rawRequest(c.data))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			_, err = stream.Recv()
			pe, ok := err.(*runtime.PluginError)
			if !ok || pe.Type != "invoke_dify_error" || !strings.HasPrefix(pe.Message, c.want) {
				t.Fatalf("session ended with %#v, want invoke_dify_error %q", err, c.want)
			}
		})
	}
}

// TestForward: llm and tool streams frame by frame, an embedding's one
// result, with the session's tenant, user and type set on the request and
// the key, plugin and depth in the headers.
func TestForward(t *testing.T) {
	f := newFixture(t, allPermissions())
	got := f.run(session{origin: runtime.Origin{Tenant: "t1", Depth: 2}},
		call{"llm", map[string]any{"provider": "acme/m/m", "model": "m1", "mode": "chat", "tenant_id": "forged", "user_id": "forged",
			"prompt_messages": []any{map[string]any{"role": "user", "content": "hi"}}}},
		call{"text_embedding", map[string]any{"provider": "acme/m/m", "model": "e1", "texts": []string{"a"}, "input_type": "document"}},
		call{"tool", map[string]any{"tool_type": "builtin", "provider": "acme/t/t", "tool": "x", "tool_parameters": map[string]any{}}},
	)
	chunks := MustStream(t, got[0])
	if len(chunks) != 2 || !strings.Contains(chunks[0], `"content":"Hel"`) || !strings.Contains(chunks[1], `"content":"lo"`) {
		t.Errorf("llm chunks %v", chunks)
	}
	if data := MustStruct(t, got[1]); !strings.Contains(data, `"embeddings":[[0.5,0.25]]`) {
		t.Errorf("embedding %s", data)
	}
	tool := got[2]
	if len(tool) != 3 || tool[0].Event != "response" || tool[0].Message != "stream" ||
		tool[1].Event != "error" || tool[1].Message != "read tool response failed: request failed: the other tool failed half way" || tool[2].Event != "end" {
		t.Errorf("tool frames %+v, want a chunk, the platform's error, end", tool)
	}
	reqs := f.inner.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests reached the platform, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.Body["tenant_id"] != "t1" || r.Body["user_id"] != "u1" || r.Header.Get(innerapi.HeaderKey) != innerKey ||
			r.Header.Get(innerapi.HeaderPlugin) != "acme/caller" || r.Header.Get(innerapi.HeaderCallDepth) != "3" {
			t.Errorf("request %s: body %v headers %v", r.Path, r.Body, r.Header)
		}
	}
	if reqs[0].Path != "/inner/api/invoke/llm" || reqs[0].Body["type"] != "llm" {
		t.Errorf("first request %s type %v", reqs[0].Path, reqs[0].Body["type"])
	}
}

func TestPlatformErrors(t *testing.T) {
	f := newFixture(t, allPermissions())
	got := f.run(session{parallel: true},
		call{"system_summary", map[string]any{"text": "long text"}},
		call{"moderation", map[string]any{"provider": "p", "model": "m", "text": "x"}},
		call{"app", map[string]any{"app_id": "a1"}},
		call{"llm", map[string]any{"provider": "p"}},
	)
	MustError(t, got[0], "invoke summary failed: request failed: no default LLM is set in the workspace")
	MustError(t, got[1], "invoke moderation model failed: validate request failed: the result has no result")
	MustError(t, got[2], "read app failed: request failed: invoke/app is not available in Plugboard")
	MustError(t, got[3], "unmarshal backwards invoke request failed: field model is required")

	t.Run("ErrWrongKey", func(t *testing.T) {
		f2 := newFixture(t, allPermissions(), func(c *callback.Config) { c.PlatformKey = "wrong" })
		MustError(t, f2.one("llm", map[string]any{"provider": "p", "model": "m", "mode": "chat"}),
			"invoke llm model failed: request failed with status code: 401 and respond with: unauthorized")
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		f2 := newFixture(t, allPermissions(), func(c *callback.Config) { c.PlatformURL = "http://" + addr })
		MustError(t, f2.one("text_embedding", map[string]any{"provider": "p", "model": "m", "texts": []string{"a"}, "input_type": "query"}),
			"invoke text-embedding model failed: Post \"http://"+addr+"/inner/api/invoke/text-embedding\"")
	})
	t.Run("ErrNotConfigured", func(t *testing.T) {
		f2 := newFixture(t, allPermissions(), func(c *callback.Config) { c.PlatformURL = "" })
		got := f2.run(session{}, call{"llm", map[string]any{"provider": "p", "model": "m", "mode": "chat"}}, storageCall("set", "k", "01"))
		MustError(t, got[0], callback.ErrNotConfigured)
		MustStruct(t, got[1])
	})
}

func TestLimits(t *testing.T) {
	t.Run("ErrDepth", func(t *testing.T) {
		f := newFixture(t, allPermissions())
		got := f.run(session{origin: runtime.Origin{Depth: innerapi.MaxCallDepth}}, storageCall("exist", "k", ""))
		MustError(t, got[0], "call back too deep: plugin acme/caller runs 5 calls back deep, and calls back may nest at most 5 deep")
		got = f.run(session{origin: runtime.Origin{Depth: innerapi.MaxCallDepth - 1}}, storageCall("exist", "k", ""))
		MustStruct(t, got[0])
	})
	t.Run("ErrTime", func(t *testing.T) {
		f := newFixture(t, allPermissions(), func(c *callback.Config) { c.Timeout = 300 * time.Millisecond })
		f.inner.hold = func(r *http.Request) { <-r.Context().Done() } // answers only once the daemon gives up
		MustError(t, f.one("tts", map[string]any{"provider": "p", "model": "m", "content_text": "hi", "voice": "v"}),
			"call back tts took longer than 300ms, the daemon's limit for one call back")
	})
	t.Run("ErrRate", func(t *testing.T) {
		f := newFixture(t, allPermissions(), func(c *callback.Config) { c.Rate, c.Burst = 0.001, 2 })
		got := f.run(session{}, storageCall("exist", "k", ""), storageCall("exist", "k", ""), storageCall("exist", "k", ""))
		MustStruct(t, got[0])
		MustStruct(t, got[1])
		MustError(t, got[2], "too many calls back: plugin acme/caller may call back at most 0.001 times a second (in bursts of 2)")
	})
}

// TestConcurrent: a call back the platform holds until another call back of
// the same session has been answered completes, so the plugin's calls back
// run side by side and a slow one holds up neither the plugin's output nor
// its other calls.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, allPermissions())
	ns := state.Storage{Tenant: "t1", PluginID: "acme/caller"}
	f.inner.hold = func(r *http.Request) {
		for {
			if ok, _ := f.db.StorageExists(r.Context(), ns, "second"); ok || r.Context().Err() != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	got := f.run(session{parallel: true},
		call{"tts", map[string]any{"provider": "p", "model": "m", "content_text": "hi", "voice": "v"}},
		storageCall("set", "second", "01"),
	)
	if chunks := MustStream(t, got[0]); len(chunks) != 1 || chunks[0] != `{"result":"6869"}` {
		t.Fatalf("tts chunks %v", chunks)
	}
	MustStruct(t, got[1])
	if !hasLog(f.rt, f.spec.Key, "call back tts answered in") || !hasLog(f.rt, f.spec.Key, "call back storage answered in") {
		t.Fatalf("the calls back are not in the plugin's log: %v", f.rt.Logs(f.spec.Key, 0))
	}
}
