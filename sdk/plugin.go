// Package sdk is the plugin side of Plugboard's runtime protocol: a Go
// plugin registers tool handlers or model providers (LLM, TextEmbedding,
// Rerank, TTS, Speech2Text, Moderation) on a Plugin and calls Run. The SDK reads requests
// and cancels from stdin, writes heartbeats, logs and session events to
// stdout, and turns handler errors and panics into session error frames.
//
//	p := sdk.New()
//	p.Tool("gotools", "stream_text", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
//		for _, word := range strings.Fields(req.String("text")) {
//			if err := w.Text(word + " "); err != nil {
//				return err
//			}
//		}
//		return nil
//	})
//	log.Fatal(p.Run())
package sdk

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Handler answers one tool invocation, writing its output to w. ctx is
// cancelled when the daemon cancels the session or the plugin shuts down.
// A returned error becomes a session error frame.
type Handler func(ctx context.Context, req *Request, w *Writer) error

// CredentialsValidator checks a provider's credentials; a non-nil error
// rejects them and its message tells the user why.
type CredentialsValidator func(ctx context.Context, creds Credentials) error

// RuntimeParametersFunc returns the extra parameters (Dify ToolParameter
// objects) a tool takes for the given request.
type RuntimeParametersFunc func(ctx context.Context, req *Request) ([]map[string]any, error)

// Default timings; see the With… options.
const (
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultHandoffDelay      = 200 * time.Microsecond
	DefaultShutdownGrace     = 5 * time.Second
)

// Plugin holds a plugin's registered tools and models and serves the
// runtime protocol.
type Plugin struct {
	tools      map[toolKey]Handler
	validators map[string]CredentialsValidator
	runtime    map[toolKey]RuntimeParametersFunc
	providers  map[string]bool

	models          map[modelKey]any // an LLM, TextEmbedding, … by provider and model type
	modelValidators map[string]CredentialsValidator
	modelProviders  map[string]bool

	heartbeat       time.Duration
	handoff         time.Duration
	grace           time.Duration
	callBackTimeout time.Duration

	out atomic.Pointer[output] // the output of the running Serve, for Logf
}

type toolKey struct{ provider, tool string }

// Option tunes a Plugin.
type Option func(*Plugin)

// WithHeartbeatInterval sets how often a heartbeat is sent (10 s by default;
// the first one is always sent at once).
func WithHeartbeatInterval(d time.Duration) Option {
	return func(p *Plugin) { p.heartbeat = d }
}

// WithHandoffDelay sets how long a handler may run on the goroutine that reads
// requests before reading moves to a new goroutine, so that quick handlers
// answer without a goroutine switch and slow ones still run concurrently.
// Zero or less runs every request on its own goroutine.
func WithHandoffDelay(d time.Duration) Option {
	return func(p *Plugin) { p.handoff = d }
}

// WithShutdownGrace sets how long Serve waits, once its input ends, for
// running handlers (whose contexts are then cancelled) to return.
func WithShutdownGrace(d time.Duration) Option {
	return func(p *Plugin) { p.grace = d }
}

// New returns a Plugin with no tools.
func New(opts ...Option) *Plugin {
	p := &Plugin{
		tools:           map[toolKey]Handler{},
		validators:      map[string]CredentialsValidator{},
		runtime:         map[toolKey]RuntimeParametersFunc{},
		providers:       map[string]bool{},
		models:          map[modelKey]any{},
		modelValidators: map[string]CredentialsValidator{},
		modelProviders:  map[string]bool{},
		heartbeat:       DefaultHeartbeatInterval,
		handoff:         DefaultHandoffDelay,
		grace:           DefaultShutdownGrace,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Tool registers the handler of provider's tool. Like http.HandleFunc it
// panics on an empty name, a nil handler or a second registration, which are
// programming errors. Register everything before calling Run or Serve.
func (p *Plugin) Tool(provider, tool string, h Handler) {
	mustRegister(provider, tool, h != nil)
	k := toolKey{provider, tool}
	if _, dup := p.tools[k]; dup {
		panic(fmt.Sprintf("sdk: tool %s/%s registered twice", provider, tool))
	}
	p.tools[k] = h
	p.providers[provider] = true
}

// ValidateCredentials registers the check of provider's credentials run for
// validate_tool_credentials. Without one, any credentials of a provider that
// has tools are accepted.
func (p *Plugin) ValidateCredentials(provider string, v CredentialsValidator) {
	mustRegister(provider, "-", v != nil)
	p.validators[provider] = v
	p.providers[provider] = true
}

// RuntimeParameters registers the answer to get_tool_runtime_parameters for
// provider's tool; without one the answer is an empty list.
func (p *Plugin) RuntimeParameters(provider, tool string, f RuntimeParametersFunc) {
	mustRegister(provider, tool, f != nil)
	p.runtime[toolKey{provider, tool}] = f
}

func mustRegister(provider, name string, ok bool) {
	if provider == "" || name == "" || !ok {
		panic(fmt.Sprintf("sdk: bad registration %q/%q: names must be non-empty and the function non-nil", provider, name))
	}
}

// Run serves the protocol on stdin and stdout until stdin closes, then exits
// the process with status 0. SIGINT and SIGTERM end it the same way. It
// returns only when serving failed, so `log.Fatal(p.Run())` is the usual call.
//
// With INSTALL_METHOD=remote in the environment it connects to a daemon's
// debugging port instead (see RemoteConfigFromEnv and RunRemote), connects
// again after the daemon restarts, and returns the daemon's refusal of a
// wrong key or an invalid declaration.
func (p *Plugin) Run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	remote, isRemote, err := RemoteConfigFromEnv()
	if err != nil {
		return err
	}
	if isRemote {
		err = p.RunRemote(ctx, remote)
	} else {
		err = p.Serve(ctx, os.Stdin, os.Stdout)
	}
	if err == nil || ctx.Err() != nil {
		os.Exit(0)
	}
	return err
}

// Logf sends a plugin-level INFO log event to the daemon (to stderr when the
// plugin is not serving).
func (p *Plugin) Logf(format string, args ...any) {
	p.Log(LevelInfo, fmt.Sprintf(format, args...))
}

// Log levels for Log.
const (
	LevelDebug = "DEBUG"
	LevelInfo  = "INFO"
	LevelWarn  = "WARNING"
	LevelError = "ERROR"
)

// Log sends a plugin-level log event with the given level.
func (p *Plugin) Log(level, message string) {
	if o := p.out.Load(); o != nil {
		o.log(level, message)
		return
	}
	fmt.Fprintf(os.Stderr, "%s %s\n", level, message)
}
