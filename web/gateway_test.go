package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/store"
)

const gotoolsID = "plugboard/gotools"

// bearer adds an Authorization header to every request.
type bearer struct {
	key string
	rt  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.rt.RoundTrip(r)
}

// mustKey creates an API key with the scope.
func mustKey(tb testing.TB, a *CredApp, name string, in store.APIKeyInput) string {
	tb.Helper()
	in.Name = name
	_, secret, err := a.Store.CreateAPIKey(context.Background(), "root", in)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

func gotoolsScope(delayMS float64, tools ...string) store.APIKeyScope {
	return store.APIKeyScope{Providers: []store.ScopeProvider{{PluginID: gotoolsID, Provider: "gotools", Tools: tools,
		Fixed: map[string]map[string]any{"stream_text": {"delay_ms": delayMS}}}}}
}

// mcpEvents is what the server sent a client besides answers.
type mcpEvents struct {
	mu       sync.Mutex
	progress []string
	changed  chan struct{}
	progCh   chan struct{}
}

// mustMCP connects an MCP client (the SDK's) with the key.
func mustMCP(tb testing.TB, a *CredApp, key string) (*mcp.ClientSession, *mcpEvents) {
	tb.Helper()
	ev := &mcpEvents{changed: make(chan struct{}, 16), progCh: make(chan struct{}, 64)}
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { ev.changed <- struct{}{} },
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			ev.mu.Lock()
			ev.progress = append(ev.progress, r.Params.Message)
			ev.mu.Unlock()
			ev.progCh <- struct{}{}
		},
	})
	tr := &mcp.StreamableClientTransport{Endpoint: a.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{key, http.DefaultTransport}}}
	s, err := c.Connect(context.Background(), tr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, ev
}

func toolNames(tb testing.TB, s *mcp.ClientSession) []string {
	tb.Helper()
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	return names
}

func callText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func countRuns(tb testing.TB, a *CredApp) int {
	tb.Helper()
	if err := a.Store.WaitWrites(); err != nil { // the gateway's runs are written after their answers
		tb.Fatal(err)
	}
	_, n, err := a.Store.FindRuns(context.Background(), store.RunFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// waitAudit waits until the audit log has an entry of the gateway's that
// matches.
func waitGatewayAudit(tb testing.TB, a *CredApp, match func(*store.AuditEntry) bool) *store.AuditEntry {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, _, err := a.Store.FindAuditEntries(context.Background(), store.AuditFilter{Action: store.AuditGatewayCall, PerPage: 500})
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range list {
			if match(e) {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatal("no such audit entry")
	return nil
}

func TestGatewayMCP(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	key := mustKey(t, a, "agent", store.APIKeyInput{Scope: gotoolsScope(1, "stream_text", "json_echo", "render_png")})
	s, _ := mustMCP(t, a, key)

	t.Run("OKListsTheKeysTools", func(t *testing.T) {
		res, err := s.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*mcp.Tool{}
		for _, tl := range res.Tools {
			byName[tl.Name] = tl
		}
		if len(byName) != 3 || byName["gotools__stream_text"] == nil || byName["gotools__json_echo"] == nil || byName["gotools__whoami"] != nil {
			t.Fatalf("tools %v", toolNames(t, s))
		}
		st := byName["gotools__stream_text"]
		schema, _ := json.Marshal(st.InputSchema)
		if st.Description != "Returns the given text, streamed one word at a time." ||
			!strings.Contains(string(schema), `"text":{"description":"the text to stream back","type":"string"}`) ||
			!strings.Contains(string(schema), `"required":["text"]`) || strings.Contains(string(schema), "delay_ms") {
			t.Errorf("stream_text: %q %s", st.Description, schema)
		}
	})
	t.Run("OKCallText", func(t *testing.T) {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": "hello gateway world"}})
		if err != nil || res.IsError || callText(res) != "hello gateway world" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("OKCallJSONIsStructured", func(t *testing.T) {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "gotools__json_echo", Arguments: map[string]any{"payload": `{"n": 7}`}})
		if err != nil || res.IsError {
			t.Fatalf("%+v %v", res, err)
		}
		if m, _ := res.StructuredContent.(map[string]any); m["n"] != float64(7) || callText(res) != `{"n":7}` {
			t.Fatalf("structured %#v text %q", res.StructuredContent, callText(res))
		}
	})
	t.Run("OKImageBlob", func(t *testing.T) {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "gotools__render_png", Arguments: map[string]any{}})
		if err != nil || res.IsError || len(res.Content) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		img, ok := res.Content[0].(*mcp.ImageContent)
		if !ok || img.MIMEType != "image/png" || !strings.HasPrefix(string(img.Data), "\x89PNG") {
			t.Fatalf("content %#v", res.Content[0])
		}
	})
	t.Run("ErrArgumentsNameTheFieldPluginNotCalled", func(t *testing.T) {
		before := countRuns(t, a)
		for args, want := range map[string]string{`{}`: "text is required.", `{"text": 5}`: "text must be a string, not 5.",
			`{"text": "x", "delay_ms": 9}`: "delay_ms is set by the key's configuration"} {
			var m map[string]any
			json.Unmarshal([]byte(args), &m)
			res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: m})
			if err != nil || !res.IsError || !strings.Contains(callText(res), want) {
				t.Errorf("%s: %+v %v, want an error result saying %q", args, res, err, want)
			}
		}
		if n := countRuns(t, a); n != before {
			t.Errorf("%d runs recorded, want none: the plugin was called", n-before)
		}
	})
	t.Run("ErrOutsideScopeRefusedAndAudited", func(t *testing.T) {
		_, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "gotools__whoami", Arguments: map[string]any{}})
		if err == nil || !strings.Contains(err.Error(), "This key may not call gotools__whoami.") {
			t.Fatalf("err %v", err)
		}
		waitGatewayAudit(t, a, func(e *store.AuditEntry) bool {
			return e.Actor == "key:agent" && e.Target == "gotools__whoami" && e.Outcome == store.OutcomeRefused
		})
	})
	t.Run("OKCallsAudited", func(t *testing.T) {
		e := waitGatewayAudit(t, a, func(e *store.AuditEntry) bool {
			return e.Actor == "key:agent" && e.Target == gotoolsID+"/gotools/stream_text" && e.Outcome == store.OutcomeSuccess
		})
		if !strings.Contains(e.Detail, "via mcp") || !strings.Contains(e.Detail, " ms, run ") {
			t.Errorf("detail %q", e.Detail)
		}
	})
	t.Run("OKPlainCallAnsweredAsJSONOthersByTheSDK", func(t *testing.T) {
		// A plain call is answered by the gateway as one JSON answer; one
		// asking for progress (or with other _meta) by the SDK's server, as
		// an event stream; both the same result.
		plain, body := rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"same answer"}}}`)
		if plain.StatusCode != http.StatusOK || plain.Header.Get("Content-Type") != "application/json" ||
			body != `{"jsonrpc":"2.0","id":"a-1","result":{"content":[{"type":"text","text":"same answer"}]}}` {
			t.Fatalf("plain: %d %s %s", plain.StatusCode, plain.Header.Get("Content-Type"), body)
		}
		sdk, events := rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","id":"a-2","method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"same answer"},"_meta":{"progressToken":"t"}}}`)
		if !strings.HasPrefix(sdk.Header.Get("Content-Type"), "text/event-stream") ||
			!strings.Contains(events, `{"jsonrpc":"2.0","id":"a-2","result":{"content":[{"type":"text","text":"same answer"}]}}`) {
			t.Fatalf("sdk: %s %s", sdk.Header.Get("Content-Type"), events)
		}
		// Outside the scope: a JSON-RPC error naming the tool, as the SDK's.
		_, body = rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"gotools__whoami"}}`)
		if body != `{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"This key may not call gotools__whoami."}}` {
			t.Fatalf("refused: %s", body)
		}
		// A session that is not open: the SDK's 404.
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"x"}}}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", "no-such-session")
		req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown session: %d", resp.StatusCode)
		}
	})
	t.Run("ErrBlankBodyIsAParseError", func(t *testing.T) {
		resp, body := rawMCP(ctx, t, a, key, s, " \n\t")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":-32700`) {
			t.Fatalf("%d %s, want a JSON-RPC parse error", resp.StatusCode, body)
		}
	})
	t.Run("ErrMalformedJSONRPCKeepsTheSession", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", strings.NewReader(`{"jsonrpc": "2.0", "id": 9, "method": `))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", s.ID())
		req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `"code":-32700`) {
			t.Fatalf("%d %s, want a JSON-RPC parse error", resp.StatusCode, body)
		}
		if names := toolNames(t, s); len(names) != 3 {
			t.Fatalf("after the bad request the session lists %v", names)
		}
	})
}

func TestGatewayMCPStreamAndCancel(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	s, ev := mustMCP(t, a, mustKey(t, a, "slow", store.APIKeyInput{Scope: gotoolsScope(300, "stream_text")}))

	t.Run("OKProgressWhileItStreams", func(t *testing.T) {
		p := &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": "one two three"}}
		p.SetProgressToken("p1")
		res, err := s.CallTool(ctx, p)
		if err != nil || callText(res) != "one two three" {
			t.Fatalf("%+v %v", res, err)
		}
		for range 3 { // the client handles notifications apart from answers
			select {
			case <-ev.progCh:
			case <-time.After(time.Minute):
				t.Fatal("fewer than 3 progress notifications")
			}
		}
		ev.mu.Lock()
		defer ev.mu.Unlock()
		if strings.Join(ev.progress, "|") != "one| two| three" {
			t.Fatalf("progress %q", ev.progress)
		}
	})
	t.Run("OKCancelReachesThePlugin", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		p := &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": strings.Repeat("word ", 100)}}
		p.SetProgressToken("p2")
		done := make(chan error, 1)
		go func() { _, err := s.CallTool(cctx, p); done <- err }()
		<-ev.progCh // drained below: wait for this call's first word
		for len(ev.progCh) > 0 {
			<-ev.progCh
		}
		<-ev.progCh
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the cancelled call answered")
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			logs, err := a.Daemon.PluginLogs(ctx, gotoolsID, 200)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, l := range logs {
				found = found || strings.Contains(l.Message, "cancelled session")
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the plugin never saw the cancel: %+v", logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitLatestRun(t, a, func(r store.Run) bool { return r.Status == store.RunCancelled })
	})
	// Without a progress token the call is answered by the gateway, not
	// the SDK's server: the client's cancel reaches it all the same.
	t.Run("OKCancelWithoutProgressReachesThePlugin", func(t *testing.T) {
		before := cancelledSessions(t, a)
		cctx, cancel := context.WithCancel(ctx)
		p := &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": strings.Repeat("word ", 100)}}
		done := make(chan error, 1)
		go func() { _, err := s.CallTool(cctx, p); done <- err }()
		// 100 words 300 ms apart: recorded as running after a second.
		running := waitLatestRun(t, a, func(r store.Run) bool { return r.Running() && r.Params["text"] == p.Arguments.(map[string]any)["text"] })
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the cancelled call answered")
		}
		for deadline := time.Now().Add(30 * time.Second); cancelledSessions(t, a) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the plugin never saw the cancel")
			}
		}
		ended := waitLatestRun(t, a, func(r store.Run) bool { return !r.Running() })
		if ended.ID != running.ID || ended.Status != store.RunCancelled {
			t.Fatalf("run %+v, want %s cancelled", ended, running.ID)
		}
	})
}

// rawMCP posts body to /mcp on session s as an MCP client would, with ctx.
func rawMCP(ctx context.Context, t *testing.T, a *CredApp, key string, s *mcp.ClientSession, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/mcp", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", s.ID())
	req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(got)
}

// TestGatewayMCPCancelNotification cancels a call the gateway answers
// with MCP's notifications/cancelled, its HTTP request left open.
func TestGatewayMCPCancelNotification(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	key := mustKey(t, a, "slow", store.APIKeyInput{Scope: gotoolsScope(300, "stream_text")})
	s, _ := mustMCP(t, a, key)
	before := cancelledSessions(t, a)
	answer := make(chan string, 1)
	go func() {
		_, body := rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"`+strings.Repeat("word ", 100)+`"}}}`)
		answer <- body
	}()
	waitLatestRun(t, a, func(r store.Run) bool { return r.Running() })
	if resp, _ := rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":41,"reason":"user"}}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notification: %d", resp.StatusCode)
	}
	select {
	case body := <-answer:
		if !strings.Contains(body, `"id":41`) || !strings.Contains(body, `"error"`) {
			t.Fatalf("answer %s", body)
		}
	case <-time.After(time.Minute):
		t.Fatal("the cancelled call did not end")
	}
	for deadline := time.Now().Add(30 * time.Second); cancelledSessions(t, a) == before; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the plugin never saw the cancel")
		}
	}
	if r := waitLatestRun(t, a, func(r store.Run) bool { return !r.Running() }); r.Status != store.RunCancelled {
		t.Fatalf("run %+v, want cancelled", r)
	}
}

// TestGatewayMCPPlainCallSessions: the calls the gateway answers itself
// keep the SDK's rules of sessions — no other key's session, no request id
// twice at once — and end with their session.
func TestGatewayMCPPlainCallSessions(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	key := mustKey(t, a, "slow", store.APIKeyInput{Scope: gotoolsScope(300, "stream_text")})
	other := mustKey(t, a, "other", store.APIKeyInput{Scope: gotoolsScope(300, "stream_text")})
	s, _ := mustMCP(t, a, key)
	mustMCP(t, a, other) // the other key has a server of its own
	slow := func(id int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":%q}}}`,
			id, strings.Repeat("word ", 100))
	}
	t.Run("ErrOtherKeysSession", func(t *testing.T) {
		before := countRuns(t, a)
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", strings.NewReader(slow(31)))
		req.Header.Set("Authorization", "Bearer "+other)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", s.ID())
		req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("another key's session: %d, want the SDK's 403", resp.StatusCode)
		}
		if n := countRuns(t, a); n != before {
			t.Fatalf("%d runs recorded: the tool was called", n-before)
		}
	})
	t.Run("ErrRequestIDInFlight", func(t *testing.T) {
		answer := make(chan string, 1)
		go func() { _, body := rawMCP(ctx, t, a, key, s, slow(51)); answer <- body }()
		running := waitLatestRun(t, a, func(r store.Run) bool { return r.Running() })
		resp, body := rawMCP(ctx, t, a, key, s, slow(51))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "duplicate in-flight request ID 51") {
			t.Fatalf("the same id again: %d %s", resp.StatusCode, body)
		}
		// The first is still the one a cancellation reaches.
		rawMCP(ctx, t, a, key, s, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":51}}`)
		if body := <-answer; !strings.Contains(body, `"id":51`) || !strings.Contains(body, `"error"`) {
			t.Fatalf("first answer %s", body)
		}
		if r := waitLatestRun(t, a, func(r store.Run) bool { return !r.Running() }); r.ID != running.ID || r.Status != store.RunCancelled {
			t.Fatalf("run %+v, want %s cancelled", r, running.ID)
		}
	})
	t.Run("OKDeletedSessionEndsItsCalls", func(t *testing.T) {
		s2, _ := mustMCP(t, a, key)
		answer := make(chan string, 1)
		go func() { _, body := rawMCP(ctx, t, a, key, s2, slow(61)); answer <- body }()
		running := waitLatestRun(t, a, func(r store.Run) bool { return r.Running() })
		req, _ := http.NewRequest(http.MethodDelete, a.URL+"/mcp", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Mcp-Session-Id", s2.ID())
		req.Header.Set("Mcp-Protocol-Version", s2.InitializeResult().ProtocolVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		select {
		case body := <-answer:
			if !strings.Contains(body, `"error"`) {
				t.Fatalf("answer %s", body)
			}
		case <-time.After(time.Minute):
			t.Fatal("the deleted session's call went on")
		}
		if r := waitLatestRun(t, a, func(r store.Run) bool { return !r.Running() }); r.ID != running.ID || r.Status != store.RunCancelled {
			t.Fatalf("run %+v, want %s cancelled", r, running.ID)
		}
		// The session the gateway served a call on is gone for it too: the
		// next call on it is the SDK's to refuse.
		call := `{"jsonrpc":"2.0","id":62,"method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"x"}}}`
		if resp, body := rawMCP(ctx, t, a, key, s2, call); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a call on the deleted session: %d %s", resp.StatusCode, body)
		}
	})
}

// cancelledSessions counts the plugin's log lines saying it cancelled a
// session.
func cancelledSessions(t *testing.T, a *CredApp) int {
	t.Helper()
	return apptest.CancelledSessions(t, a.Daemon, gotoolsID)
}

// waitLatestRun waits until the newest run is one that ok accepts.
func waitLatestRun(t *testing.T, a *CredApp, ok func(store.Run) bool) store.Run {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		runs, _, err := a.Store.FindRuns(context.Background(), store.RunFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && ok(runs[0]) {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newest run is %+v", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGatewayMCPListChanged(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	scope := gotoolsScope(0)
	scope.Providers = append(scope.Providers, store.ScopeProvider{PluginID: "plugboard/pytools", Provider: "pytools"})
	s, ev := mustMCP(t, a, mustKey(t, a, "both", store.APIKeyInput{Scope: scope}))
	before := len(toolNames(t, s))
	wait := func(what string) {
		select {
		case <-ev.changed:
		case <-time.After(2 * time.Minute):
			t.Fatalf("no tools/list_changed after %s", what)
		}
	}
	mustInstall(t, a.Daemon, apptest.MustPytools(t))
	wait("installing pytools")
	after := toolNames(t, s)
	if len(after) <= before || !strings.Contains(strings.Join(after, ","), "pytools__") {
		t.Fatalf("tools after install %v", after)
	}
	list, err := a.Daemon.List(ctx, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range list.List {
		if inst.PluginID == "plugboard/pytools" {
			if err := a.Daemon.Uninstall(ctx, inst.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait("uninstalling pytools")
	if n := len(toolNames(t, s)); n != before {
		t.Fatalf("%d tools after uninstall, want %d", n, before)
	}
}

func TestGatewayKeys(t *testing.T) {
	a := MustCredApp(t)
	ctx := context.Background()
	post := func(key, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	want401 := func(t *testing.T, key string) {
		t.Helper()
		resp := post(key, init)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || len(body) != 0 {
			t.Fatalf("%d %q, want a bare 401", resp.StatusCode, body)
		}
	}
	good := mustKey(t, a, "good", store.APIKeyInput{Scope: gotoolsScope(0)})
	t.Run("OKGoodKey", func(t *testing.T) {
		if resp := post(good, init); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) { want401(t, "") })
	t.Run("ErrWrongKey", func(t *testing.T) { want401(t, good[:len(good)-2]+"xx") })
	t.Run("ErrRevokedKey", func(t *testing.T) {
		k, secret, err := a.Store.CreateAPIKey(ctx, "root", store.APIKeyInput{Name: "gone", Scope: gotoolsScope(0)})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := mustMCP(t, a, secret)
		if _, err := a.Store.RevokeAPIKey(ctx, "root", k.ID); err != nil {
			t.Fatal(err)
		}
		want401(t, secret)
		if _, err := s.ListTools(ctx, nil); err == nil {
			t.Fatal("a revoked key's open session still answers")
		}
	})
	t.Run("ErrOtherKeysSession", func(t *testing.T) {
		s, _ := mustMCP(t, a, good)
		other := mustKey(t, a, "other", store.APIKeyInput{Scope: gotoolsScope(0)})
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`))
		req.Header.Set("Authorization", "Bearer "+other)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", s.ID())
		req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "gotools__") {
			t.Fatalf("another key used the session: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrExpiredKey", func(t *testing.T) {
		secret := mustKey(t, a, "brief", store.APIKeyInput{Scope: gotoolsScope(0), ExpiresAt: time.Now().Add(time.Second)})
		for deadline := time.Now().Add(30 * time.Second); post(secret, init).StatusCode != http.StatusUnauthorized; {
			if time.Now().After(deadline) {
				t.Fatal("the key is still accepted after its expiry")
			}
			time.Sleep(50 * time.Millisecond)
		}
		want401(t, secret)
	})
	t.Run("OKLastUsedShown", func(t *testing.T) {
		b := a.admin(t)
		for deadline := time.Now().Add(30 * time.Second); ; {
			p := b.Get("/settings/api-keys")
			row := p.Doc.Find(`[data-testid=apikey-row][data-name=good]`)
			if strings.HasPrefix(row.Find(`[data-testid=apikey-last-used]`).Text(), "last used") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("last use not shown: %s", row.Text())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestGatewayREST(t *testing.T) {
	a := MustCredApp(t)
	key := mustKey(t, a, "rest", store.APIKeyInput{Scope: gotoolsScope(1, "stream_text", "json_echo")})
	do := func(method, path, accept, body, key string) *http.Response {
		req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	t.Run("OKFunctionSchemas", func(t *testing.T) {
		var out struct {
			Tools []struct {
				Type     string `json:"type"`
				Function struct {
					Name       string         `json:"name"`
					Parameters map[string]any `json:"parameters"`
				} `json:"function"`
			} `json:"tools"`
		}
		resp := do(http.MethodGet, "/api/v1/tools", "", "", key)
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Tools) != 2 {
			t.Fatalf("%d %+v %v", resp.StatusCode, out, err)
		}
		f := out.Tools[0]
		if f.Type != "function" || f.Function.Name != "gotools__stream_text" || f.Function.Parameters["type"] != "object" {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("OKInvokeJSON", func(t *testing.T) {
		resp := do(http.MethodPost, "/api/v1/tools/gotools__stream_text/invoke", "", `{"text": "via rest"}`, key)
		var out struct{ Status, Output string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "done" || out.Output != "via rest" {
			t.Fatalf("%d %+v %v", resp.StatusCode, out, err)
		}
	})
	t.Run("OKInvokeSSE", func(t *testing.T) {
		resp := do(http.MethodPost, "/api/v1/tools/gotools__stream_text/invoke", "text/event-stream", `{"text": "a b"}`, key)
		var events []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events = append(events, ev)
			}
		}
		if resp.Header.Get("Content-Type") != "text/event-stream" || strings.Join(events, ",") != "message,message,done" {
			t.Fatalf("%s: events %v", resp.Header.Get("Content-Type"), events)
		}
	})
	t.Run("ErrInvokeBadArgument", func(t *testing.T) {
		resp := do(http.MethodPost, "/api/v1/tools/gotools__stream_text/invoke", "", `{"text": true}`, key)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "text must be a string") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrOutsideScope", func(t *testing.T) {
		if resp := do(http.MethodPost, "/api/v1/tools/gotools__whoami/invoke", "", `{}`, key); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("ErrUnknownTool", func(t *testing.T) {
		resp := do(http.MethodPost, "/api/v1/tools/gotools__no_such_tool/invoke", "", `{}`, key)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "No tool gotools__no_such_tool is installed.") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrRateLimit", func(t *testing.T) {
		slow := mustKey(t, a, "once", store.APIKeyInput{Scope: gotoolsScope(0), RatePerMinute: 1})
		if resp := do(http.MethodGet, "/api/v1/tools", "", "", slow); resp.StatusCode != http.StatusOK {
			t.Fatalf("first request: %d", resp.StatusCode)
		}
		resp := do(http.MethodGet, "/api/v1/tools", "", "", slow)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Retry-After") == "0" {
			t.Fatalf("%d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}

func TestGatewayKeyPage(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	b.Get("/settings/api-keys")
	post := func(form url.Values) *Page { return b.Post("/settings/api-keys", form) }
	t.Run("OKCreatedShownOnce", func(t *testing.T) {
		p := post(url.Values{"name": {"ci"}, "provider": {gotoolsID + "|gotools"}, "tool." + gotoolsID + "|gotools": {"stream_text"},
			"fixed": {`{"gotools__stream_text": {"delay_ms": 0}}`}, "rate": {"60"}, "expires": {"2099-01-01"}})
		wantStatus(t, p, http.StatusOK)
		secret := p.TestID("apikey-secret").Text()
		if !strings.HasPrefix(secret, "pbk_") || p.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("secret %q cache %q", secret, p.Header.Get("Cache-Control"))
		}
		keys, _ := a.Store.FindAPIKeys(context.Background())
		if len(keys) != 1 || keys[0].RatePerMinute != 60 || keys[0].Scope.Providers[0].Fixed["stream_text"]["delay_ms"] != 0.0 {
			t.Fatalf("%+v", keys[0])
		}
		again := b.Get("/settings/api-keys")
		if strings.Contains(again.Body, secret) || again.TestID("apikey-secret").Length() != 0 {
			t.Fatal("the secret is shown again")
		}
	})
	for name, tc := range map[string]struct {
		form  url.Values
		field string
		want  string
	}{
		"ErrNoProvider":      {url.Values{"name": {"x"}}, "scope", "Pick at least one tool provider"},
		"ErrNotInstalled":    {url.Values{"name": {"x"}, "provider": {"acme/none|none"}}, "scope", "No installed plugin acme/none"},
		"ErrOtherCredential": {url.Values{"name": {"x"}, "provider": {gotoolsID + "|gotools"}, "cred." + gotoolsID + "|gotools": {"999"}}, "scope", "has no credential 999"},
		"ErrFixedNotJSON":    {url.Values{"name": {"x"}, "provider": {gotoolsID + "|gotools"}, "fixed": {"{"}}, "fixed", "must be a JSON object"},
		"ErrFixedLLMParam":   {url.Values{"name": {"x"}, "provider": {gotoolsID + "|gotools"}, "fixed": {`{"gotools__stream_text": {"text": "x"}}`}}, "fixed", "has no form parameter text"},
		"ErrFixedOutOfRange": {url.Values{"name": {"x"}, "provider": {gotoolsID + "|gotools"}, "fixed": {`{"gotools__stream_text": {"delay_ms": 99999}}`}}, "fixed", "delay_ms must be at most 5000."},
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := a.Store.FindAPIKeys(context.Background())
			p := post(tc.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if got := p.TestID("apikey-form").Text(); !strings.Contains(got, tc.want) {
				t.Fatalf("form says:\n%s\nwant %q", got, tc.want)
			}
			after, _ := a.Store.FindAPIKeys(context.Background())
			if len(after) != len(before) || p.TestID("apikey-secret").Length() != 0 {
				t.Fatal("a key was made")
			}
		})
	}
	t.Run("OKRevokeClosesSessions", func(t *testing.T) {
		k, secret, err := a.Store.CreateAPIKey(context.Background(), "root", store.APIKeyInput{Name: "live", Scope: gotoolsScope(1)})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := mustMCP(t, a, secret)
		b.Get("/settings/api-keys")
		wantRedirect(t, b.Post("/settings/api-keys/"+strconv.FormatInt(k.ID, 10)+"/revoke", url.Values{}), "/settings/api-keys")
		if _, err := s.ListTools(context.Background(), nil); err == nil {
			t.Fatal("the revoked key's session still answers")
		}
		e := waitAuditAction(t, a, store.AuditAPIKeyRevoke)
		if e.Actor != "alice" || !strings.Contains(e.Target, "live") {
			t.Fatalf("%+v", e)
		}
	})
}

func waitAuditAction(tb testing.TB, a *CredApp, action string) *store.AuditEntry {
	tb.Helper()
	list, _, err := a.Store.FindAuditEntries(context.Background(), store.AuditFilter{Action: action})
	if err != nil || len(list) == 0 {
		tb.Fatalf("no %s entry: %v", action, err)
	}
	return list[0]
}
