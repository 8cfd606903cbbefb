package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// mcpServers holds one MCP server per key that has opened a session: its
// tools are the key's, kept in step with the installed ones (adding and
// removing tools sends the key's sessions notifications/tools/list_changed).
type mcpServers struct {
	s       *Service
	mu      sync.Mutex
	servers map[int64]*keyServer
	handler *mcp.StreamableHTTPHandler
	// calls are the tools/calls serveCall answers that are going on.
	calls liveCalls
}

// keyServer is one key's MCP server and the tools it offers, by name.
type keyServer struct {
	key   *store.APIKey
	srv   *mcp.Server
	tools map[string]string // name → version
	// versions are the protocol versions of its initialized sessions that
	// calls were served on, by session id, until each session ends
	// (mcpServers.session).
	versions map[string]string
}

func newMCPServers(s *Service) *mcpServers {
	m := &mcpServers{s: s, servers: map[int64]*keyServer{}}
	m.handler = mcp.NewStreamableHTTPHandler(m.server, &mcp.StreamableHTTPOptions{Logger: s.log,
		// The admin app's own guard answers for the Host and Origin;
		// Plugboard is often reached by a name other than localhost.
		DisableLocalhostProtection: true})
	return m
}

// extraCall names the request's keyCall in the TokenInfo's Extra the
// SDK's requests carry.
const extraCall = "call"

// keyCall is what the web layer authenticated of an MCP request (WithKey).
type keyCall struct {
	key              *store.APIKey
	address, baseURL string
}

// MCPHandler serves MCP's Streamable HTTP for an authenticated key (see
// WithKey): the web layer authenticates and rate-limits first.
func (s *Service) MCPHandler() http.Handler {
	verify := func(ctx context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		kc, _ := r.Context().Value(keyCallKey{}).(*keyCall)
		if kc == nil {
			return nil, auth.ErrInvalidToken
		}
		// Made only for the requests the SDK serves: a plain call served
		// here reads the key from the context (callOf).
		return &auth.TokenInfo{UserID: strconv.FormatInt(kc.key.ID, 10), Expiration: kc.key.ExpiresAt,
			Extra: map[string]any{extraCall: kc}}, nil
	}
	sdk := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(s.mcp.handler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.mcp.serveMCP(w, r, sdk) })
}

// callOf is the call an MCP request's context allows: its key, the
// caller's address and the app's base URL (WithKey); false when it has no key.
func callOf(ctx context.Context) (Call, bool) {
	kc, _ := ctx.Value(keyCallKey{}).(*keyCall)
	return kc.call()
}

// callFor is callOf for the SDK's token of a request.
func callFor(ti *auth.TokenInfo) (Call, bool) {
	kc, _ := ti.Extra[extraCall].(*keyCall)
	return kc.call()
}

func (kc *keyCall) call() (Call, bool) {
	if kc == nil || kc.key == nil {
		return Call{}, false
	}
	return Call{Key: kc.key, Via: "mcp", Address: kc.address, BaseURL: kc.baseURL}, true
}

type keyCallKey struct{}

// WithKey returns ctx carrying the authenticated key of an MCP request,
// with the caller's address and the app's base URL for plugins.
func WithKey(ctx context.Context, k *store.APIKey, address, baseURL string) context.Context {
	return context.WithValue(ctx, keyCallKey{}, &keyCall{key: k, address: address, baseURL: baseURL})
}

// server is the key's MCP server, made at its first session. The SDK asks
// for it on every request; only a request opening a session (one without
// Mcp-Session-Id) reads the installed tools first, so that a new session
// lists them as they are now — the poll keeps open sessions in step, and a
// call does not pay for a daemon listing.
func (m *mcpServers) server(r *http.Request) *mcp.Server {
	kc, _ := r.Context().Value(keyCallKey{}).(*keyCall)
	k := kc.key
	if r.Header.Get("Mcp-Session-Id") == "" {
		m.s.refresh(r.Context())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ks := m.servers[k.ID]
	if ks == nil {
		srv := mcp.NewServer(&mcp.Implementation{Name: "plugboard", Title: "Plugboard tools", Version: m.s.cfg.Version},
			&mcp.ServerOptions{Logger: m.s.log, HasTools: true,
				Instructions: "Tools of the plugins installed in Plugboard that this key may call."})
		ks = &keyServer{key: k, srv: srv, tools: map[string]string{}}
		srv.AddReceivingMiddleware(m.refuseUnlisted(ks))
		m.servers[k.ID] = ks
		m.syncKey(ks, m.s.catalog.all())
	}
	return ks.srv
}

// serving reports whether any key has an MCP server, which the poll keeps
// in step with the installed tools.
func (m *mcpServers) serving() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.servers) > 0
}

// sync brings every key's server to the installed tools.
func (m *mcpServers) sync(tools []*Tool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ks := range m.servers {
		m.syncKey(ks, tools)
	}
}

// syncKey removes the key's tools no longer installed and adds (again)
// the new and upgraded ones.
func (m *mcpServers) syncKey(ks *keyServer, tools []*Tool) {
	want := map[string]*Tool{}
	for _, t := range allowed(tools, ks.key) {
		want[t.Name] = t
	}
	var gone []string
	for name := range ks.tools {
		if want[name] == nil {
			gone = append(gone, name)
			delete(ks.tools, name)
		}
	}
	if len(gone) > 0 {
		ks.srv.RemoveTools(gone...)
	}
	for name, t := range want {
		if ks.tools[name] == t.version {
			continue
		}
		ks.tools[name] = t.version
		ks.srv.AddTool(&mcp.Tool{Name: t.Name, Title: t.Declaration.Identity.Label.English(), Description: t.Description,
			InputSchema: t.InputSchema}, m.handle(t.Name))
	}
}

// refuseUnlisted answers a tools/call of a tool the key's server does not
// list through the gateway's Call, so that a call outside the key's scope
// is refused and audited like any other refusal, as a JSON-RPC error.
func (m *mcpServers) refuseUnlisted(ks *keyServer) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			call, ok := req.(*mcp.CallToolRequest)
			if !ok || method != "tools/call" || call.Params == nil {
				return next(ctx, method, req)
			}
			m.mu.Lock()
			_, listed := ks.tools[call.Params.Name]
			m.mu.Unlock()
			if listed {
				return next(ctx, method, req)
			}
			c := Call{Key: ks.key, Via: "mcp"}
			if ti := tokenOf(call); ti != nil {
				c, _ = callFor(ti)
				c.Key = ks.key
			}
			c.Tool = call.Params.Name
			return m.callTool(ctx, c, call.Params.Arguments, false, nil)
		}
	}
}

func tokenOf(req *mcp.CallToolRequest) *auth.TokenInfo {
	if req.Extra == nil {
		return nil
	}
	return req.Extra.TokenInfo
}

// drop closes a key's sessions and forgets its server.
func (m *mcpServers) drop(keyID int64) {
	m.mu.Lock()
	ks := m.servers[keyID]
	delete(m.servers, keyID)
	m.mu.Unlock()
	m.calls.cancelKey(keyID)
	if ks != nil {
		for ss := range ks.srv.Sessions() {
			ss.Close()
		}
	}
}

// close ends every MCP session.
func (m *mcpServers) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ks := range m.servers {
		for ss := range ks.srv.Sessions() {
			ss.Close()
		}
	}
}

// handle is the tools/call handler of one tool: the call through the
// gateway, its messages as MCP content, each one a progress notification
// when the client asked for progress.
func (m *mcpServers) handle(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		ti := tokenOf(req)
		if ti == nil {
			return nil, ErrUnauthorized
		}
		c, ok := callFor(ti)
		if !ok {
			return nil, ErrUnauthorized
		}
		c.Tool = name
		return m.callTool(ctx, c, req.Params.Arguments, true, progressOf(ctx, req))
	}
}

// callTool is one tools/call, the SDK's or served by serveCall: the call
// through the gateway with args (a JSON object), its messages as MCP
// content. For a tool the key's server lists, a refusal or a failure is
// an error result; a tool it does not list (outside the key's scope, or
// not installed when the list was made) is refused and audited by Call
// all the same, and answered as a JSON-RPC error, as the SDK answers a
// call of a tool it does not have.
func (m *mcpServers) callTool(ctx context.Context, c Call, args json.RawMessage, listed bool, progress func(*client.Message)) (*mcp.CallToolResult, error) {
	if len(args) > 0 {
		if err := json.Unmarshal(args, &c.Args); err != nil && listed {
			return errorResult("The arguments must be a JSON object: " + err.Error()), nil
		} // unlisted: Call refuses it first
	}
	res, err := m.s.Call(ctx, c, progress)
	switch {
	case !listed && err != nil:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: plugboard.ErrorMessage(err)}
	case !listed:
		return resultOf(res), nil // installed in scope since the list was made
	case errors.Is(ctx.Err(), context.Canceled):
		return nil, ctx.Err()
	case err != nil && plugboard.ErrorCode(err) == plugboard.EINTERNAL:
		m.s.log.Error("gateway: mcp call", "tool", c.Tool, "err", err)
		return nil, errors.New("internal error")
	case err != nil:
		return errorResult(plugboard.ErrorMessage(err)), nil
	}
	return resultOf(res), nil
}

// progressOf sends a progress notification per message when the request
// carries a progress token (nil otherwise).
func progressOf(ctx context.Context, req *mcp.CallToolRequest) func(*client.Message) {
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return nil
	}
	n := 0
	return func(msg *client.Message) {
		n++
		text := msg.Text
		if msg.Type != "text" {
			text = msg.Type + " message"
		}
		if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(n), Message: text}); err != nil {
			return // the client went away; the call's ctx ends it
		}
	}
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

// resultOf maps the tool's messages to MCP content: text pieces joined,
// JSON as text and structured content, image blobs as images, other blobs
// as embedded resources, links and image links as resource links. A failed
// run is an error result with the daemon's message after what came.
func resultOf(res *Result) *mcp.CallToolResult {
	out := &mcp.CallToolResult{Content: []mcp.Content{}}
	var text *mcp.TextContent
	var structured []any
	for _, m := range res.Messages {
		if m.Type == "text" {
			if text == nil {
				text = &mcp.TextContent{}
				out.Content = append(out.Content, text)
			}
			text.Text += m.Text
			continue
		}
		text = nil
		if c := contentOf(res.Run.ID, m); c != nil {
			out.Content = append(out.Content, c)
		}
		if m.Type == "json" {
			structured = append(structured, m.JSON)
		}
	}
	switch len(structured) {
	case 0:
	case 1:
		out.StructuredContent = structured[0]
	default:
		out.StructuredContent = map[string]any{"json": structured}
	}
	if res.Failed() {
		out.IsError = true
		msg := res.Run.Error
		if msg == "" {
			msg = "The tool " + res.Run.Status + "."
		}
		out.Content = append(out.Content, &mcp.TextContent{Text: msg})
	}
	return out
}

// contentOf is one non-text message as MCP content (nil: none, such as
// variables and logs).
func contentOf(runID string, m *client.Message) mcp.Content {
	switch m.Type {
	case "json":
		b, _ := json.Marshal(m.JSON)
		return &mcp.TextContent{Text: string(b)}
	case "blob":
		if len(m.MIME) > 6 && m.MIME[:6] == "image/" {
			return &mcp.ImageContent{Data: m.Blob, MIMEType: m.MIME}
		}
		name := m.Filename
		if name == "" {
			name = "blob"
		}
		return &mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: fmt.Sprintf("plugboard://runs/%s/%s", runID, name),
			MIMEType: m.MIME, Blob: m.Blob}}
	case "link", "image", "image_link", "binary_link":
		uri := m.Link
		if uri == "" {
			uri = m.Text
		}
		rl := &mcp.ResourceLink{URI: uri, Name: uri}
		if m.Type != "link" {
			rl.MIMEType = m.MIME
		}
		return rl
	}
	return nil
}
