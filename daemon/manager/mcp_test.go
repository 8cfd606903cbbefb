package manager_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// mcpEcho is examples/mcp/echo, built once, in a folder the contained
// plugin's uid may read.
var mcpEcho = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(work, "mcp") // removed with work by TestMain
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, d := range []string{work, dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "mcpecho")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/mcp/echo")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

const mcpID = "mcp/echo"

func mustAddMCP(t *testing.T, m *manager.Manager) *apispec.Installation {
	t.Helper()
	bin, err := mcpEcho()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := m.AddMCPServer(context.Background(), tenant, apispec.MCPServerRequest{Name: "echo", Command: []string{bin}, Env: []string{"ECHO_MODE=test"}})
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// messages invokes a tool and collects its messages until the end or an error.
func messages(t *testing.T, m *manager.Manager, tool string, params map[string]any) ([]map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := m.Invoke(ctx, tenant, mcpID, toolRequest("echo", tool, params))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []map[string]any
	for {
		raw, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var msg map[string]any
		if err := json.Unmarshal(raw, &msg); err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
}

func texts(msgs []map[string]any) string {
	var b strings.Builder
	for _, m := range msgs {
		if m["type"] == protocol.MessageText {
			b.WriteString(m["message"].(map[string]any)["text"].(string))
		}
	}
	return b.String()
}

// waitLog waits until the plugin's log has a line containing want.
func waitLog(t *testing.T, m *manager.Manager, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		logs, _ := m.Logs(context.Background(), tenant, mcpID, 1000)
		for _, l := range logs {
			if strings.Contains(l.Message, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line contains %q", want)
}

// waitRunning waits until the server runs with at least restarts restarts.
func waitRunning(t *testing.T, m *manager.Manager, restarts int) *apispec.RuntimeStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := m.Status(context.Background(), tenant, mcpID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == apispec.StateRunning && st.Restarts >= restarts {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("MCP server not running after %d restarts", restarts)
	return nil
}

func TestMCPServerTools(t *testing.T) {
	m := MustOpen(t, t.TempDir())
	inst := mustAddMCP(t, m)
	if inst.PluginID != mcpID || inst.RuntimeType != manager.RuntimeMCP || inst.Category != plugboard.CategoryTool {
		t.Fatalf("installation = %s %s %s", inst.PluginID, inst.RuntimeType, inst.Category)
	}
	if st := inst.Runtime; st.State != apispec.StateRunning || st.Containment == "" {
		t.Fatalf("state = %+v", st)
	}

	tool, err := m.Tool(context.Background(), tenant, mcpID, "echo")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]plugboard.Tool{}
	for _, tl := range tool.Declaration.Tools {
		byName[tl.Identity.Name] = tl
	}
	if len(byName) != 8 {
		t.Fatalf("tools = %v", byName)
	}
	echo := byName["echo"]
	if echo.Description.LLM != "Echo the text back." || len(echo.Parameters) != 2 {
		t.Fatalf("echo = %+v", echo)
	}
	text, upper := echo.Parameters[0], echo.Parameters[1]
	if text.Name != "text" || text.Type != plugboard.ParamString || !text.Required || text.Form != plugboard.FormLLM || text.LLMDescription != "the text to echo" {
		t.Errorf("text = %+v", text)
	}
	if upper.Name != "upper" || upper.Type != plugboard.ParamBoolean || upper.Required {
		t.Errorf("upper = %+v", upper)
	}
	if steps := byName["slow"].Parameters[0]; steps.Name != "steps" || steps.Type != plugboard.ParamNumber || steps.Precision == nil || *steps.Precision != 0 {
		t.Errorf("steps = %+v", steps)
	}

	if got, err := invokeText(m, mcpID, toolRequest("echo", "getenv", map[string]any{"name": "ECHO_MODE"})); err != nil || got != "ECHO_MODE set=true length=4" {
		t.Fatalf("getenv = %q, %v", got, err)
	}
	msgs, err := messages(t, m, "echo", map[string]any{"text": "hi there", "upper": true})
	if err != nil || texts(msgs) != "echo: HI THERE" {
		t.Fatalf("echo = %q, %v", texts(msgs), err)
	}
	// A required parameter missing is refused before the server is asked.
	_, err = messages(t, m, "echo", map[string]any{})
	wantErr(t, err, plugboard.EINVALID, "text")

	// Progress notifications stream as text before the result.
	msgs, err = messages(t, m, "slow", map[string]any{"steps": 3, "delay_ms": 1})
	if err != nil || texts(msgs) != "step 1 of 3\nstep 2 of 3\nstep 3 of 3\ndone" || len(msgs) != 4 {
		t.Fatalf("slow = %q (%d messages), %v", texts(msgs), len(msgs), err)
	}

	_, err = messages(t, m, "fail", map[string]any{"reason": "nope"})
	if err == nil || !strings.Contains(err.Error(), "failed: nope") {
		t.Fatalf("fail: %v", err)
	}

	msgs, err = messages(t, m, "picture", nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, msg := range msgs {
		kinds = append(kinds, msg["type"].(string))
	}
	if got := strings.Join(kinds, " "); !strings.HasPrefix(got, protocol.MessageBlobChunk) || !strings.HasSuffix(got, "link json") {
		t.Fatalf("picture messages = %s", got)
	}
}

func TestMCPServerCancelCrashAndGarble(t *testing.T) {
	m := MustOpen(t, t.TempDir())
	mustAddMCP(t, m)

	// A cancelled invocation reaches the server as MCP's cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	s, err := m.Invoke(ctx, tenant, mcpID, toolRequest("echo", "slow", map[string]any{"steps": 100000, "delay_ms": 20}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil { // the first progress step
		t.Fatal(err)
	}
	cancel()
	s.Close()
	waitLog(t, m, "slow: cancelled")
	if got, err := invokeText(m, mcpID, toolRequest("echo", "echo", map[string]any{"text": "still here"})); err != nil || got != "echo: still here" {
		t.Fatalf("after cancel: %q, %v", got, err)
	}

	// A server that dies: the invocation says so, and it is restarted.
	_, err = messages(t, m, "crash", nil)
	if err == nil || !strings.Contains(err.Error(), "MCP server") || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("crash: %v", err)
	}
	t.Logf("crash: %v", err)
	waitRunning(t, m, 1)
	waitLog(t, m, "closed its connection")
	if got, err := invokeText(m, mcpID, toolRequest("echo", "echo", map[string]any{"text": "back"})); err != nil || got != "echo: back" {
		t.Fatalf("after crash: %q, %v", got, err)
	}

	// A server that writes what is not JSON-RPC: a clear error, then a restart.
	_, err = messages(t, m, "garble", nil)
	if err == nil || !strings.Contains(err.Error(), "not JSON-RPC") {
		t.Fatalf("garble: %v", err)
	}
	t.Logf("garble: %v", err)
	waitRunning(t, m, 2)
	if got, err := invokeText(m, mcpID, toolRequest("echo", "echo", map[string]any{"text": "again"})); err != nil || got != "echo: again" {
		t.Fatalf("after garble: %q, %v", got, err)
	}
}

func TestMCPServerRestoreAndRemove(t *testing.T) {
	dir := t.TempDir()
	m := MustOpen(t, dir)
	inst := mustAddMCP(t, m)
	// The same name again is refused; nothing changes.
	bin, _ := mcpEcho()
	_, err := m.AddMCPServer(context.Background(), tenant, apispec.MCPServerRequest{Name: "echo", Command: []string{bin}})
	wantErr(t, err, plugboard.ECONFLICT, "echo")
	m.Close()

	m = MustOpen(t, dir)
	waitRunning(t, m, 0)
	if got, err := invokeText(m, mcpID, toolRequest("echo", "echo", map[string]any{"text": "restored"})); err != nil || got != "echo: restored" {
		t.Fatalf("after restore: %q, %v", got, err)
	}
	if err := m.Uninstall(context.Background(), tenant, inst.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Status(context.Background(), tenant, mcpID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("after uninstall: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "mcp")); len(entries) > 0 {
		if sub, _ := os.ReadDir(filepath.Join(dir, "mcp", entries[0].Name())); len(sub) > 0 {
			t.Fatalf("MCP folder left: %v", sub)
		}
	}
	m.Close()
	m = MustOpen(t, dir)
	if list, _ := m.List(context.Background(), tenant, 1, 0); list.Total != 0 {
		t.Fatalf("after reopen: %d installations", list.Total)
	}
}

func TestMCPServerBadInput(t *testing.T) {
	m := MustOpen(t, t.TempDir())
	bin, err := mcpEcho()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  apispec.MCPServerRequest
		want string
	}{
		{apispec.MCPServerRequest{Name: "Bad Name", Command: []string{bin}}, "name"},
		{apispec.MCPServerRequest{Name: "x"}, "command"},
		{apispec.MCPServerRequest{Name: "x", Command: []string{"/no/such/server"}}, "not an executable"},
		{apispec.MCPServerRequest{Name: "x", Command: []string{bin}, Env: []string{"NOEQUALS"}}, "NAME=value"},
		{apispec.MCPServerRequest{Name: "x", Command: []string{"/bin/true"}}, "did not complete its initialization"},
	} {
		_, err := m.AddMCPServer(context.Background(), tenant, c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.req, err, c.want)
		}
	}
	if list, _ := m.List(context.Background(), tenant, 1, 0); list.Total != 0 {
		t.Fatalf("%d installations left", list.Total)
	}
}

// A server that stops answering (its process stopped) misses a ping: the
// invocation ends saying so, and the server is restarted.
func TestMCPServerHang(t *testing.T) {
	t.Setenv("PLUGBOARD_MCP_PING_INTERVAL", "1s")
	m := MustOpen(t, t.TempDir())
	mustAddMCP(t, m)
	msgs, err := messages(t, m, "hang", nil)
	if err == nil || !strings.Contains(err.Error(), "did not answer a ping") {
		logs, _ := m.Logs(context.Background(), tenant, mcpID, 100)
		t.Fatalf("hang: %v (messages %v, logs %+v)", err, msgs, logs)
	}
	t.Logf("hang: %v", err)
	waitRunning(t, m, 1)
	if got, err := invokeText(m, mcpID, toolRequest("echo", "echo", map[string]any{"text": "awake"})); err != nil || got != "echo: awake" {
		t.Fatalf("after the hang: %q, %v", got, err)
	}
}

// A server whose tools change is seen with its new tools once restarted.
func TestMCPServerToolsChange(t *testing.T) {
	dir := t.TempDir()
	m := MustOpen(t, dir)
	mustAddMCP(t, m)
	has := func() bool {
		tool, err := m.Tool(context.Background(), tenant, mcpID, "echo")
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range tool.Declaration.Tools {
			if tl.Identity.Name == "extra" {
				return true
			}
		}
		return false
	}
	if has() {
		t.Fatal("extra listed before its file")
	}
	work, err := filepath.Glob(filepath.Join(dir, "mcp", "*", "echo"))
	if err != nil || len(work) != 1 {
		t.Fatalf("working dir: %v %v", work, err)
	}
	if err := os.WriteFile(filepath.Join(work[0], "echo-extra"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	messages(t, m, "crash", nil)
	waitRunning(t, m, 1)
	if !has() {
		t.Fatal("extra not listed after the restart")
	}
	if got, err := invokeText(m, mcpID, toolRequest("echo", "extra", nil)); err != nil || got != "extra" {
		t.Fatalf("extra = %q, %v", got, err)
	}
}
