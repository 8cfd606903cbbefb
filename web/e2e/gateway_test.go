package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearerTransport sends an API key, as an MCP client configured with one.
type bearerTransport struct{ key string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// TestGatewayAPIKey: an admin creates an API key on Settings → API keys,
// sees its secret once (gone after reload), the key opens the REST API,
// and once revoked it is refused.
func TestGatewayAPIKey(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithDaemon(MustGotoolsDaemon(t), daemonKey))
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.Open("/settings", "settings-page")
	b.Do("open API keys", chromedp.Click(tid("settings-apikeys")), chromedp.WaitVisible(tid("apikey-form")))
	b.Fill(map[string]string{"input-name": "cursor-ana"})
	b.Do("create the key", chromedp.Click(tid("scope-gotools")), chromedp.Click(tid("scope-tool-gotools__stream_text")),
		chromedp.Click(tid("apikey-submit")), chromedp.WaitVisible(tid("apikey-secret")))
	b.Shoot("apikey-created")
	secret := strings.TrimSpace(b.Text("apikey-secret"))
	if !strings.HasPrefix(secret, "pbk_") || !strings.Contains(b.Text("config-cursor"), secret) {
		t.Fatalf("secret %q, cursor config %q", secret, b.Text("config-cursor"))
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/tools", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("the new key is answered %d", st)
	}
	// As an MCP client configured with it calls a tool: through the real
	// binary's /mcp (the gateway's plain tools/call path), then with a
	// progress token (the SDK's path).
	ctx := context.Background()
	mc := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	session, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp",
		HTTPClient: &http.Client{Transport: bearerTransport{secret}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	for _, progress := range []bool{false, true} {
		p := &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": "called with the new key"}}
		if progress {
			p.SetProgressToken("e2e")
		}
		res, err := session.CallTool(ctx, p)
		if err != nil || res.IsError || len(res.Content) != 1 {
			t.Fatalf("tools/call (progress %v): %+v %v", progress, res, err)
		}
		if text, _ := res.Content[0].(*mcp.TextContent); text == nil || text.Text != "called with the new key" {
			t.Fatalf("tools/call (progress %v): %#v", progress, res.Content[0])
		}
	}

	b.Open("/settings/api-keys", "apikeys-page")
	if n := b.Count("apikey-secret"); n != 0 || strings.Contains(Eval[string](b, `document.body.innerHTML`), secret) {
		t.Fatal("the secret is shown again after a reload")
	}
	b.Do("revoke", chromedp.Click(`[data-testid="apikey-row"][data-name="cursor-ana"] [data-testid="apikey-revoke"]`),
		chromedp.WaitVisible(`[data-testid="apikey-row"][data-name="cursor-ana"][data-status="revoked"]`))
	b.Shoot("apikey-revoked")
	if st := get(); st != http.StatusUnauthorized {
		t.Fatalf("the revoked key is answered %d", st)
	}
}
