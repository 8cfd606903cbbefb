package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard/app/apptest"
)

// An admin adds a stdio MCP server of our own (examples/mcp/echo, on the
// official Go SDK) in the browser; it is listed as an MCP server on the
// Plugins page, its tools run in the playground with their progress
// streamed, its environment's values and arguments never reach a page, and it is removed
// like a plugin.
func TestMCPProviders(t *testing.T) {
	skipWithoutChromium(t)
	bin := apptest.MustBuildMCPEcho(t)
	srv := MustServe(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()
	const secretValue = "mcp-Sup3rSecretToken"

	b.Do("open the MCP form", chromedp.Click(tid("add-mcp-server")), chromedp.WaitVisible(tid("mcp-form")))
	// A command that is not there: refused in the form, nothing added.
	b.Fill(map[string]string{"input-name": "echo", "input-command": "/no/such/mcp-server", "input-env": "ECHO_TOKEN=" + secretValue})
	b.Do("submit a missing command", chromedp.Click(tid("mcp-submit")), chromedp.WaitVisible(`.field.has-error`))
	if msg := b.Text("mcp-form"); !strings.Contains(msg, "not an executable file") {
		t.Fatalf("form says %q", msg)
	}
	if html := Eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, secretValue) {
		t.Fatal("the re-rendered form holds the environment's value")
	}
	b.Shoot("mcp-form-error")

	b.Fill(map[string]string{"input-name": "echo", "input-command": bin, "input-args": "--token=" + secretValue, "input-env": "ECHO_TOKEN=" + secretValue})
	b.Do("add the server", chromedp.Click(tid("mcp-submit")), chromedp.WaitVisible(tid("plugin-detail")))
	if st := Eval[string](b, `document.querySelector('[data-testid="plugin-detail"]').dataset.state`); st != "running" {
		t.Fatalf("state %q", st)
	}
	if src := b.Text("detail-source"); src != "MCP server" {
		t.Fatalf("source %q", src)
	}
	b.Shoot("mcp-detail")

	b.Open("/", "plugin-list")
	if got := Eval[string](b, `document.querySelector('[data-plugin-id="mcp/echo"] [data-testid="plugin-source"]').textContent`); got != "MCP server" {
		t.Fatalf("card source %q", got)
	}
	b.Shoot("mcp-plugins")

	startRun(b, "mcp/echo:echo:slow", map[string]string{"input-steps": "4", "input-delay_ms": "300"})
	seen, final, status := watchUntilEnded(b)
	if status != "done" || !strings.Contains(final, "step 4 of 4") || !strings.HasSuffix(strings.TrimSpace(final), "done") {
		t.Fatalf("slow ended %s with %q", status, final)
	}
	if len(seen) < 2 {
		t.Fatalf("progress seen in %d steps (%q), want it streamed", len(seen), seen)
	}
	b.Shoot("mcp-playground")
	// The environment reached the server (its value never reached a page).
	startRun(b, "mcp/echo:echo:getenv", map[string]string{"input-name": "ECHO_TOKEN"})
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != "ECHO_TOKEN set=true length=20" {
		t.Fatalf("getenv ended %s with %q", status, final)
	}
	startRun(b, "mcp/echo:echo:echo", map[string]string{"input-text": "from the browser"})
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != "echo: from the browser" {
		t.Fatalf("echo ended %s with %q", status, final)
	}

	for _, p := range [][2]string{{"/plugins/mcp/echo", "detail-process"}, {"/audit", "audit-log"}} {
		path := p[0]
		b.Open(path, p[1])
		if html := Eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, secretValue) {
			t.Fatalf("%s holds the environment's value", path)
		}
	}

	if n := Eval[int](b, `document.querySelectorAll('[data-testid="audit-entry"][data-action="mcp_server.add"]').length`); n != 2 {
		t.Fatalf("%d mcp_server.add audit entries, want the refused one and the added one", n)
	}
	b.Open("/plugins/mcp/echo", "plugin-detail")
	b.Do("remove the server", chromedp.Click(tid("uninstall-open")), chromedp.WaitVisible(tid("uninstall-confirm")),
		chromedp.Click(tid("uninstall-confirm")), chromedp.WaitVisible(tid("plugins-empty")))
}

// A Streamable HTTP MCP server (the SDK's handler, on loopback, which the
// outbound allowlist lets through) with a bearer token: added in the
// browser, its tool run in the playground, the token in no page.
func TestMCPProvidersHTTP(t *testing.T) {
	skipWithoutChromium(t)
	const bearer = "mcp-e2e-Sup3rSecretBearer"
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "shout", Description: "Answer in capitals."},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			Text string `json:"text" jsonschema:"what to shout"`
		}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.ToUpper(in.Text)}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+bearer {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close) // registered first: closes after the server
	srv := MustServe(t, func(c *serveConfig) { c.args = append(c.args, "--outbound-allow", "127.0.0.1") })
	b := MustBrowser(t, srv)
	b.CreateOwner()
	noBearer := func(where string) {
		t.Helper()
		if html := Eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, bearer) {
			t.Fatalf("%s holds the bearer token", where)
		}
	}

	b.Open("/plugins/mcp/new", "mcp-form")
	b.Fill(map[string]string{"input-name": "remote", "input-url": up.URL, "input-token": "wrong-token"})
	b.Do("submit a wrong token", chromedp.Click(tid("mcp-submit")), chromedp.WaitVisible(tid("form-error")))
	if msg := b.Text("mcp-form"); !strings.Contains(msg, "Unauthorized") {
		t.Fatalf("form says %q", msg)
	}
	b.Fill(map[string]string{"input-name": "remote", "input-url": up.URL, "input-token": bearer})
	b.Do("add the server", chromedp.Click(tid("mcp-submit")), chromedp.WaitVisible(tid("plugin-detail")))
	noBearer("the server's page")
	b.Shoot("mcp-http-detail")

	startRun(b, "mcp/remote:remote:shout", map[string]string{"input-text": "over http"})
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != "OVER HTTP" {
		t.Fatalf("shout ended %s with %q", status, final)
	}
	noBearer("the run")
	b.Open("/audit", "audit-log")
	noBearer("the audit log")

	// Removed like a plugin, its sealed headers with it: the name is free again.
	b.Open("/plugins/mcp/remote", "plugin-detail")
	b.Do("remove the server", chromedp.Click(tid("uninstall-open")), chromedp.WaitVisible(tid("uninstall-confirm")),
		chromedp.Click(tid("uninstall-confirm")), chromedp.WaitVisible(tid("plugins-empty")))
	b.Open("/plugins/mcp/new", "mcp-form")
	b.Fill(map[string]string{"input-name": "remote", "input-url": up.URL, "input-token": bearer})
	b.Do("add it again", chromedp.Click(tid("mcp-submit")), chromedp.WaitVisible(tid("plugin-detail")))
}
