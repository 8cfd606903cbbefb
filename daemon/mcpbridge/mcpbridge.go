// Package mcpbridge runs an MCP server (stdio) as a plugin: the daemon starts
// its own binary with EnvServer set as the plugin's command, contained and
// supervised by daemon/runtime exactly like a plugin process; this package's
// init hook then starts the MCP server's command as its child (inside the same
// sandbox and cgroup), connects to it with the go-sdk client over its
// stdin/stdout, lists its tools, writes them as a tool provider's declarations
// to ToolsFile in its working directory (which the manager reads), and serves
// Plugboard's runtime protocol with the SDK: an invoke_tool becomes a
// tools/call (progress notifications streamed as text, content as tool
// messages, isError as an error), a cancel the MCP cancellation.
//
// The bridge exits — and so the runtime restarts it with backoff and the
// in-flight invocations end with its words — when the server exits, sends
// what is not JSON-RPC, or stops answering pings.
package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/sdk"
)

// Environment of the bridge process, set by the manager.
const (
	// EnvServer holds the MCP server to run or reach (Server as JSON); its
	// presence makes a binary linking this package run as the bridge.
	EnvServer = "PLUGBOARD_MCP_SERVER"
	// EnvProvider is the tool provider's name the tools are served under.
	EnvProvider = "PLUGBOARD_MCP_PROVIDER"
	// ToolsFile is written in the working directory once the tools are listed.
	ToolsFile = "mcp-tools.json"
	// EnvPing, when set to a duration, replaces the ping interval (and
	// bounds each ping by it too); the manager passes on the daemon's own
	// value, which tests set.
	EnvPing = "PLUGBOARD_MCP_PING_INTERVAL"
)

// Timings; variables so tests of the package may shorten them.
var (
	connectTimeout = 60 * time.Second
	pingInterval   = 15 * time.Second
	pingTimeout    = 10 * time.Second
)

func init() {
	raw, ok := os.LookupEnv(EnvServer)
	if !ok {
		return
	}
	if err := run(raw); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Server is the MCP server a bridge runs (Command, with the environment
// fetched from EnvURL when set) or reaches (URL); both URLs are the
// platform's relay, which asks for Token in RelayHeader.
type Server struct {
	Command []string `json:"command,omitempty"`
	EnvURL  string   `json:"env_url,omitempty"`
	URL     string   `json:"url,omitempty"`
	Token   string   `json:"token,omitempty"`
}

// fetchEnv asks the platform for the server's environment (a JSON list of
// NAME=value), which the daemon never stores.
func fetchEnv(ctx context.Context, srv Server) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.EnvURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: relayTransport{srv.Token}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the platform answered %s", resp.Status)
	}
	var env []string
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env); err != nil {
		return nil, fmt.Errorf("the platform's answer does not decode: %v", err)
	}
	return env, nil
}

// RelayHeader carries a relayed server's token to the platform's relay.
const RelayHeader = "X-Plugboard-MCP-Relay"

func run(raw string) error {
	var srv Server
	if err := json.Unmarshal([]byte(raw), &srv); err != nil || (len(srv.Command) == 0 || srv.Command[0] == "") && srv.URL == "" {
		return errors.New("MCP bridge: no server command or URL")
	}
	provider := os.Getenv(EnvProvider)
	if d, err := time.ParseDuration(os.Getenv(EnvPing)); err == nil && d > 0 {
		pingInterval, pingTimeout = d, d
	}
	os.Unsetenv(EnvServer)
	os.Unsetenv(EnvProvider)
	os.Unsetenv(EnvPing)
	ctx := context.Background()

	b := &bridge{progress: map[string]*progress{}}
	var transport mcp.Transport
	name := "over HTTP"
	if srv.URL != "" {
		transport = &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: relayTransport{srv.Token}}}
	} else {
		argv := srv.Command
		name = argv[0]
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env, cmd.Stderr = os.Environ(), os.Stderr // the server's stderr lands in the plugin's log
		if srv.EnvURL != "" {
			env, err := fetchEnv(ctx, srv)
			if err != nil {
				return fmt.Errorf("MCP server %s: its environment could not be fetched from the platform: %v", name, err)
			}
			cmd.Env = append(cmd.Env, env...)
		}
		transport = &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "plugboard", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: b.onProgress,
	})
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	session, err := client.Connect(cctx, transport, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("MCP server %s did not complete its initialization: %v", name, err)
	}
	b.session = session
	var tools []*mcp.Tool
	lctx, cancel := context.WithTimeout(ctx, connectTimeout)
	for t, err := range session.Tools(lctx, nil) {
		if err != nil {
			cancel()
			return fmt.Errorf("MCP server %s: tools/list failed: %v", name, err)
		}
		tools = append(tools, t)
	}
	cancel()
	decls := Declarations(tools)
	data, err := json.Marshal(decls)
	if err != nil {
		return err
	}
	if err := writeFile(ToolsFile, data); err != nil {
		return fmt.Errorf("MCP bridge: %v", err)
	}
	p := sdk.New()
	for _, t := range tools {
		p.Tool(provider, t.Name, b.handler(t.Name, parseSchema(t.InputSchema)))
	}
	if len(tools) == 0 { // a provider with no tools still answers, with not found
		p.ValidateCredentials(provider, func(context.Context, sdk.Credentials) error { return nil })
	}
	go b.watch(name)
	return p.Run()
}

// writeFile replaces name atomically.
func writeFile(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Clean(name))
}

// relayTransport adds the relay's token to every request.
type relayTransport struct{ token string }

func (t relayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(RelayHeader, t.token)
	return http.DefaultTransport.RoundTrip(r)
}

type bridge struct {
	session  *mcp.ClientSession
	mu       sync.Mutex
	progress map[string]*progress // by progress token: the invocation's session id
}

// progress is one invocation's progress notifications. The SDK hands them
// to the handler in order, but apart from the result, so one sent just
// before the result may still be queued when the call returns: the handler
// then waits (settleWait at most) until the last one reported reaches the
// total, or, without a total, for settleGrace after the last one.
type progress struct {
	w           *sdk.Writer
	last, total float64
	seen        bool
	changed     chan struct{} // closed and replaced at each notification
}

const (
	settleWait  = time.Second
	settleGrace = 20 * time.Millisecond
)

// watch ends the bridge when the MCP server's connection ends (it exited or
// sent what is not JSON-RPC) or the server stops answering pings.
func (b *bridge) watch(name string) {
	done := make(chan error, 1)
	go func() { done <- b.session.Wait() }()
	tick := time.NewTicker(pingInterval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			msg := "MCP server " + name + " closed its connection"
			if err != nil {
				msg += ": " + err.Error()
			}
			fmt.Fprintln(os.Stderr, msg)
			os.Exit(1)
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
			err := b.session.Ping(ctx, nil)
			cancel()
			if err != nil {
				if errors.Is(err, mcp.ErrConnectionClosed) {
					continue // done reports it
				}
				fmt.Fprintf(os.Stderr, "MCP server %s did not answer a ping within %s (%v), so it was restarted\n", name, pingTimeout, err)
				os.Exit(1)
			}
		}
	}
}

func (b *bridge) onProgress(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	token := fmt.Sprint(req.Params.ProgressToken)
	b.mu.Lock()
	p := b.progress[token]
	b.mu.Unlock()
	if p == nil {
		return
	}
	text := req.Params.Message
	if text == "" {
		if req.Params.Total > 0 {
			text = fmt.Sprintf("progress %g/%g", req.Params.Progress, req.Params.Total)
		} else {
			text = fmt.Sprintf("progress %g", req.Params.Progress)
		}
	}
	_ = p.w.Text(text + "\n")
	b.mu.Lock()
	p.last, p.total, p.seen = req.Params.Progress, req.Params.Total, true
	close(p.changed)
	p.changed = make(chan struct{})
	b.mu.Unlock()
}

// settle waits for the progress notifications still queued (see progress).
func (b *bridge) settle(p *progress) {
	deadline := time.After(settleWait)
	for {
		b.mu.Lock()
		seen, total, done, ch := p.seen, p.total, p.total > 0 && p.last >= p.total, p.changed
		b.mu.Unlock()
		if !seen || done {
			return
		}
		wait := settleWait
		if total <= 0 {
			wait = settleGrace
		}
		select {
		case <-ch:
		case <-time.After(wait):
			return
		case <-deadline:
			return
		}
	}
}

// handler invokes one tool of the server.
func (b *bridge) handler(name string, s schema) sdk.Handler {
	return func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		token := w.SessionID()
		p := &progress{w: w, changed: make(chan struct{})}
		b.mu.Lock()
		b.progress[token] = p
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			delete(b.progress, token)
			b.mu.Unlock()
		}()
		params := &mcp.CallToolParams{Name: name, Arguments: arguments(req.Params, s)}
		params.SetProgressToken(token)
		res, err := b.session.CallTool(ctx, params)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return callError(name, err)
		}
		b.settle(p)
		return writeResult(w, name, res)
	}
}

// callError words a failed tools/call: the connection's end (the server
// exited, or wrote what is not JSON-RPC, after which the bridge exits and is
// restarted) apart from the server's own JSON-RPC error.
func callError(name string, err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax) || strings.Contains(err.Error(), "invalid character"):
		return sdk.Errorf(sdk.ErrTypeInvoke, "MCP server sent what is not JSON-RPC while handling %s (%v); it is being restarted", name, err)
	case errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.ErrUnexpectedEOF):
		return sdk.Errorf(sdk.ErrTypeInvoke, "MCP server closed its connection while handling %s (it exited or crashed); it is being restarted", name)
	}
	return sdk.Errorf(sdk.ErrTypeInvoke, "MCP server: tools/call %s failed: %v", name, err)
}

// writeResult turns a tools/call result into tool messages.
func writeResult(w *sdk.Writer, name string, res *mcp.CallToolResult) error {
	if res.IsError {
		var parts []string
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				parts = append(parts, t.Text)
			}
		}
		msg := strings.Join(parts, "\n")
		if msg == "" {
			msg = "the tool reported an error"
		}
		return sdk.Errorf(sdk.ErrTypeInvoke, "%s", msg)
	}
	for _, c := range res.Content {
		var err error
		switch c := c.(type) {
		case *mcp.TextContent:
			err = w.Text(c.Text)
		case *mcp.ImageContent:
			err = w.Blob(c.Data, c.MIMEType, "image"+ext(c.MIMEType))
		case *mcp.AudioContent:
			err = w.Blob(c.Data, c.MIMEType, "audio"+ext(c.MIMEType))
		case *mcp.ResourceLink:
			err = w.Link(c.URI)
		case *mcp.EmbeddedResource:
			if r := c.Resource; r != nil {
				if r.Blob != nil {
					err = w.Blob(r.Blob, r.MIMEType, filepath.Base(r.URI))
				} else {
					err = w.Text(r.Text)
				}
			}
		default:
			raw, _ := json.Marshal(c)
			err = w.Text(string(raw))
		}
		if err != nil {
			return err
		}
	}
	if res.StructuredContent != nil {
		v := res.StructuredContent
		if _, ok := v.(map[string]any); !ok {
			v = map[string]any{"result": v}
		}
		if err := w.JSON(v); err != nil {
			return err
		}
	}
	return nil
}

func ext(mime string) string {
	if _, sub, ok := strings.Cut(mime, "/"); ok && sub != "" && !strings.ContainsAny(sub, "+;. ") {
		return "." + sub
	}
	return ""
}

// ProviderDeclaration is the tool provider an MCP server's tools make.
func ProviderDeclaration(name, label string, tools []plugboard.Tool) *plugboard.ToolProvider {
	if label == "" {
		label = name
	}
	return &plugboard.ToolProvider{
		Identity: plugboard.ProviderIdentity{
			Author: "mcp", Name: name, Label: plugboard.I18n{"en_US": label},
			Description: plugboard.I18n{"en_US": "MCP server " + label}, Tags: []string{},
		},
		Credentials: []plugboard.CredentialField{},
		Tools:       tools,
	}
}
