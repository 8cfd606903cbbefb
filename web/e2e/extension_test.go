package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// extensionEndpoint is an API-based extension on loopback: it answers the
// ping with pong on /ok (the wrong pong on /wrong) and echoes other points,
// remembering the Authorization headers it was sent.
type extensionEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func mustExtensionEndpoint(tb testing.TB) *extensionEndpoint {
	ep := &extensionEndpoint{}
	ep.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		ep.mu.Lock()
		ep.auths = append(ep.auths, r.Header.Get("Authorization"))
		ep.mu.Unlock()
		switch {
		case r.URL.Path == "/wrong":
			io.WriteString(w, `{"result":"pang"}`)
		case req["point"] == "ping":
			io.WriteString(w, `{"result":"pong"}`)
		default:
			json.NewEncoder(w).Encode(map[string]any{"flagged": true, "action": "direct_output",
				"preset_response": "Let's keep it friendly.", "echo": req})
		}
	}))
	tb.Cleanup(ep.Close)
	return ep
}

func (ep *extensionEndpoint) lastAuth() string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.auths) == 0 {
		return ""
	}
	return ep.auths[len(ep.auths)-1]
}

// TestExtensions allowlists a loopback endpoint, adds an extension (after a
// refused wrong pong), sees its key masked, tries a point and re-saves with
// the masked key.
func TestExtensions(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t)
	ep := mustExtensionEndpoint(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()
	b.Do("open Extensions", chromedp.Click(tid("nav-extensions")), chromedp.WaitVisible(tid("extensions-page")))
	b.Shoot("extensions-empty")

	// Loopback is refused until the allowlist names it.
	addExtension(b, "Moderation", ep.URL+"/ok", "sk-moderation-2024", "error-endpoint")
	if got := b.Text("error-endpoint"); !strings.Contains(got, "refused: 127.0.0.1 is a loopback address") {
		t.Fatalf("error %q", got)
	}
	b.Fill(map[string]string{"input-allowlist": "127.0.0.1"})
	submit(b, "save the allowlist", tid("allowlist-submit"), "flash-success")

	// A wrong pong is refused and nothing is saved.
	addExtension(b, "Moderation", ep.URL+"/wrong", "sk-moderation-2024", "error-endpoint")
	if got := b.Text("error-endpoint"); !strings.Contains(got, `instead of {"result":"pong"}`) {
		t.Fatalf("error %q", got)
	}
	if n := b.Count("extension-row"); n != 0 {
		t.Fatalf("%d extensions listed after a failed ping", n)
	}
	b.Shoot("extension-error")

	// Created: listed with the key masked.
	addExtension(b, "Moderation", ep.URL+"/ok", "sk-moderation-2024", "extension-row")
	if got := b.Text("flash-success"); !strings.Contains(got, "answered the ping") {
		t.Fatalf("flash %q", got)
	}
	if got := b.Text("extension-key"); got != "sk**************24" {
		t.Fatalf("key shown as %q", got)
	}
	if Eval[bool](b, `document.documentElement.outerHTML.includes("sk-moderation-2024")`) {
		t.Fatal("the page holds the key")
	}
	b.Shoot("extensions")

	// Try the moderation.output point.
	submit(b, "open the extension", tid("extension-edit"), "try-panel")
	Eval[bool](b, `(() => { const s = document.querySelector('[data-testid="input-point"]'); s.value = "app.moderation.output";
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	b.Do("wait for the output fields", chromedp.WaitVisible(tid("input-text")))
	b.Fill(map[string]string{"input-text": "You are all idiots."})
	submit(b, "send", tid("try-submit"), "try-body")
	if got := b.Text("try-status"); got != "200" {
		t.Fatalf("status %q", got)
	}
	if got := b.Text("try-body"); !strings.Contains(got, `"point": "app.moderation.output"`) || !strings.Contains(got, "You are all idiots.") {
		t.Fatalf("body %q", got)
	}
	b.Shoot("extension-try")

	// Rename, keeping the masked key: the ping carries the stored key.
	b.Fill(map[string]string{"input-name": "Moderation API"})
	submit(b, "save", `[data-testid="edit-extension"] [data-testid="extension-submit"]`, "flash-success")
	if got := ep.lastAuth(); got != "Bearer sk-moderation-2024" {
		t.Fatalf("the ping carried %q", got)
	}
	if got := b.Text("extension-link"); got != "Moderation API" {
		t.Fatalf("listed as %q", got)
	}
}

// addExtension fills and submits the add form on the Extensions page,
// then waits for waitFor on the page that answers.
func addExtension(b *Browser, name, endpoint, key, waitFor string) {
	b.tb.Helper()
	b.Open("/extensions", "extensions-page")
	b.Fill(map[string]string{"input-name": name, "input-endpoint": endpoint, "input-api_key": key})
	submit(b, "add "+name, `[data-testid="add-extension"] [data-testid="extension-submit"]`, waitFor)
}

// submit clicks and waits for waitFor on the new page (or the swapped
// fragment): the old document's elements are marked stale first.
func submit(b *Browser, what string, click chromedp.CSS, waitFor string) {
	b.tb.Helper()
	Eval[bool](b, `(() => { document.querySelectorAll("[data-testid]").forEach(el => el.dataset.stale = "1"); return true })()`)
	b.Do(what, chromedp.Click(click), chromedp.WaitVisible(chromedp.CSS(`[data-testid="`+waitFor+`"]:not([data-stale])`)))
}
