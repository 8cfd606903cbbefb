package callback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/callback"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

// patience bounds every wait, so a hang fails instead of blocking.
const patience = 60 * time.Second

// python is the real interpreter behind python3, pythonPrefix its prefix
// (which a contained plugin may read).
var python, pythonPrefix string

func TestMain(m *testing.M) {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable); print(sys.base_prefix)").Output()
	if f := strings.Fields(string(out)); err == nil && len(f) == 2 {
		python, pythonPrefix = f[0], f[1]
	}
	os.Exit(m.Run())
}

// allPermissions is a manifest's resource.permission allowing everything.
func allPermissions() map[string]any {
	return map[string]any{
		"tool": map[string]any{"enabled": true},
		"model": map[string]any{"enabled": true, "llm": true, "text_embedding": true, "rerank": true,
			"tts": true, "speech2text": true, "moderation": true},
		"node":    map[string]any{"enabled": true},
		"app":     map[string]any{"enabled": true},
		"storage": map[string]any{"enabled": true, "size": 1024},
	}
}

// fixture is a runtime running testdata/plugin.py, whose calls back are
// answered by a callback.Service over a real database and a stand-in of
// the platform's inner API.
type fixture struct {
	t      *testing.T
	rt     *runtime.Manager
	db     *state.DB
	dbPath string
	inner  *innerStandIn
	spec   runtime.Spec
	perm   map[string]any
	cfg    callback.Config
}

func newFixture(t *testing.T, perm map[string]any, tune ...func(*callback.Config)) *fixture {
	t.Helper()
	if python == "" {
		t.Skip("no python3")
	}
	f := &fixture{t: t, perm: perm, inner: newInnerStandIn(t), dbPath: filepath.Join(t.TempDir(), "daemon.db")}
	f.cfg = callback.Config{PlatformURL: f.inner.srv.URL, PlatformKey: innerKey}
	for _, fn := range tune {
		fn(&f.cfg)
	}
	f.start()
	t.Cleanup(f.stop)
	return f
}

// start opens the database and starts the plugin (again, after stop).
func (f *fixture) start() {
	t := f.t
	t.Helper()
	db, err := state.Open(context.Background(), f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	cfg := f.cfg
	cfg.DB = db
	cfg.Manifest = func(cb *runtime.CallBack) *plugboard.Manifest {
		if cb.PluginID != "acme/caller" {
			return nil
		}
		return &plugboard.Manifest{Author: "acme", Name: "caller", Resource: plugboard.Resource{Permission: f.perm}}
	}
	f.rt = runtime.NewManager(runtime.Config{CallBacks: callback.New(cfg)})
	script, err := filepath.Abs("testdata/plugin.py")
	if err != nil {
		t.Fatal(err)
	}
	f.spec = runtime.Spec{
		Key: "acme/caller:0.0.1@test", PluginID: "acme/caller", Dir: t.TempDir(),
		Command: []string{python, script}, ReadOnly: []string{pythonPrefix, script}, StartTimeout: patience,
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := f.rt.Start(ctx, f.spec); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// stop stops the plugin and closes the database, as a daemon's end does.
func (f *fixture) stop() {
	if f.rt != nil {
		f.rt.Close()
		f.db.Close()
		f.rt = nil
	}
}

// call is one call back the plugin makes.
type call struct {
	Type    string         `json:"type"`
	Request map[string]any `json:"request"`
}

// frame is one backwards_response frame the plugin received.
type frame struct {
	Event   string          `json:"event"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// session is how a tool session of the plugin is opened.
type session struct {
	origin   runtime.Origin
	from     string // the request's type: tool (default) or model
	parallel bool
}

// run has the plugin make calls in one tool session, and returns the
// frames it received for each, failing the test if the session fails.
func (f *fixture) run(s session, calls ...call) [][]frame {
	f.t.Helper()
	out, err := f.try(s, calls...)
	if err != nil {
		f.t.Fatalf("session: %v", err)
	}
	return out
}

// try is run, returning the session's error.
func (f *fixture) try(s session, calls ...call) ([][]frame, error) {
	f.t.Helper()
	if s.origin.Tenant == "" {
		s.origin.Tenant = "t1"
	}
	if s.from == "" {
		s.from = protocol.TypeTool
	}
	ctx, cancel := context.WithTimeout(runtime.WithOrigin(context.Background(), s.origin), patience)
	defer cancel()
	raw, _ := json.Marshal(calls)
	var list []any
	json.Unmarshal(raw, &list)
	stream, err := f.rt.Invoke(ctx, f.spec.Key, &protocol.RequestData{
		UserID: "u1", Type: s.from, Action: protocol.ActionInvokeTool, Provider: "caller", Tool: "calls",
		ToolParameters: map[string]any{"calls": list, "parallel": s.parallel},
	})
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	return readFrames(f.t, stream)
}

// readFrames decodes the plugin's one text chunk (the frames per call).
func readFrames(t *testing.T, stream *runtime.Stream) ([][]frame, error) {
	t.Helper()
	msg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var tm struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	var out [][]frame
	if err := json.Unmarshal(msg, &tm); err != nil || json.Unmarshal([]byte(tm.Message.Text), &out) != nil {
		t.Fatalf("the plugin's answer %s is not a list of frames", msg)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the answer: %v, want the end", err)
	}
	return out, nil
}

// one runs a single call back and returns its frames.
func (f *fixture) one(typ string, req map[string]any) []frame {
	f.t.Helper()
	return f.run(session{}, call{typ, req})[0]
}

// MustError checks that frames are one error with the message, then end.
func MustError(t *testing.T, frames []frame, want string) {
	t.Helper()
	if len(frames) != 2 || frames[0].Event != "error" || frames[1].Event != "end" {
		t.Fatalf("frames %+v, want an error then end", frames)
	}
	if !strings.Contains(frames[0].Message, want) {
		t.Fatalf("error %q, want it to contain %q", frames[0].Message, want)
	}
	if string(frames[0].Data) != "null" {
		t.Fatalf("error frame data %s, want null", frames[0].Data)
	}
}

// MustStruct checks that frames are one struct response, then end, and
// returns its data.
func MustStruct(t *testing.T, frames []frame) string {
	t.Helper()
	if len(frames) != 2 || frames[0].Event != "response" || frames[0].Message != "struct" || frames[1].Event != "end" {
		t.Fatalf("frames %+v, want a struct response then end", frames)
	}
	return compact(t, frames[0].Data)
}

// compact returns data without the spaces Python's json.dumps adds.
func compact(t *testing.T, data json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatalf("frame data %s: %v", data, err)
	}
	return b.String()
}

// MustStream checks that frames are stream responses, then end, and returns
// their data.
func MustStream(t *testing.T, frames []frame) []string {
	t.Helper()
	var out []string
	for i, fr := range frames {
		if i == len(frames)-1 {
			if fr.Event != "end" {
				t.Fatalf("last frame %+v, want end", fr)
			}
			break
		}
		if fr.Event != "response" || fr.Message != "stream" {
			t.Fatalf("frame %d %+v, want a stream response", i, fr)
		}
		out = append(out, compact(t, fr.Data))
	}
	return out
}

const innerKey = "inner-secret"

// innerStandIn is the platform's inner API as the tests need it: it
// records each request and answers by path.
type innerStandIn struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []innerRequest
	// hold, when set, is waited on by invoke/tts before it answers.
	hold func(r *http.Request)
}

type innerRequest struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

func newInnerStandIn(t *testing.T) *innerStandIn {
	s := &innerStandIn{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *innerStandIn) requests() []innerRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]innerRequest(nil), s.got...)
}

func (s *innerStandIn) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	s.got = append(s.got, innerRequest{r.URL.Path, r.Header.Clone(), body})
	hold := s.hold
	s.mu.Unlock()
	if r.Header.Get(innerapi.HeaderKey) != innerKey {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(innerapi.ErrorFrame("unauthorized"))
		return
	}
	frames := func(payloads ...[]byte) {
		for _, p := range payloads {
			innerapi.WriteFrame(w, p)
			w.(http.Flusher).Flush()
		}
	}
	data := func(v any) []byte { b, _ := innerapi.DataFrame(v); return b }
	switch strings.TrimPrefix(r.URL.Path, innerapi.Prefix) {
	case innerapi.PathLLM:
		for _, text := range []string{"Hel", "lo"} {
			frames(data(map[string]any{"model": "m1", "prompt_messages": []any{},
				"delta": map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}}}))
		}
	case innerapi.PathTool:
		frames(data(map[string]any{"type": "text", "message": map[string]any{"text": "from the other tool"}, "meta": nil}),
			innerapi.ErrorFrame("the other tool failed half way"))
	case innerapi.PathTextEmbedding:
		w.Write(data(map[string]any{"model": "e1", "embeddings": [][]float64{{0.5, 0.25}},
			"usage": map[string]any{"tokens": 2, "total_tokens": 2}}))
	case innerapi.PathSummary:
		w.WriteHeader(http.StatusBadRequest)
		w.Write(innerapi.ErrorFrame("no default LLM is set in the workspace"))
	case innerapi.PathModeration:
		w.Write(data(map[string]any{"flagged": true})) // no result: invalid
	case innerapi.PathTTS:
		if hold != nil {
			hold(r)
		}
		frames(data(map[string]any{"result": "6869"}))
	case innerapi.PathApp, innerapi.PathFetchApp, innerapi.PathParameterExtractor, innerapi.PathQuestionClassifier:
		msg := innerapi.ErrorFrame(strings.TrimPrefix(r.URL.Path, innerapi.Prefix) + " is not available in Plugboard")
		if innerapi.Streamed(strings.TrimPrefix(r.URL.Path, innerapi.Prefix)) {
			frames(msg)
		} else {
			w.Write(msg)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write(innerapi.ErrorFrame("no such path"))
	}
}

// rawRequest asks the plugin to send data as an invoke message's data.
func rawRequest(data any) *protocol.RequestData {
	return &protocol.RequestData{UserID: "u1", Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: "caller", Tool: "raw", ToolParameters: map[string]any{"data": data}}
}

// hasLog reports whether the plugin's log holds an entry containing text.
func hasLog(m *runtime.Manager, key, text string) bool {
	for _, e := range m.Logs(key, 0) {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}
