// Package mcpserver adds MCP servers as tool providers, for admins. The
// daemon runs each (daemon/mcpbridge, plugin id mcp/<name>); what is secret
// stays here, sealed by store/secret. A Streamable HTTP server is reached
// through this app's relay, /inner/mcp/<id>: the app keeps its address and
// headers (a bearer token) and every request goes out through the outbound
// guard (app/netguard), so the daemon needs no guard of its own. A stdio
// server's environment is fetched by its bridge at each start from
// /inner/mcp/<id>/env. Both ask for the server's relay token, made at
// random when it is added and kept hashed.
package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/mcpbridge"
	"github.com/plugboard/plugboard/store"
)

// RelayPrefix is where the relay is mounted, followed by the server's id.
const RelayPrefix = "/inner/mcp/"

// connectTimeout bounds reaching the server.
const connectTimeout = 15 * time.Second

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Keys   store.Sealer
	Guard  *netguard.Guard
	Daemon *client.Client
	Logger *slog.Logger
}

// Service adds MCP servers and answers their bridges' relay requests.
type Service struct {
	cfg    Config
	client *http.Client
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := cfg.Guard.Client(netguard.Timeouts{Connect: connectTimeout})
	return &Service{cfg: cfg, client: c}
}

// Form is an admin's HTTP MCP server as typed: a name, the URL, a bearer
// token (optional) and more headers as "Name: value" lines.
type Form struct {
	Name, URL, Token, Headers string
}

// StdioForm is an admin's stdio MCP server as typed: a name, the
// executable, its arguments one a line, its environment as NAME=value lines.
type StdioForm struct {
	Name, Command, Args, Env string
}

// lines are s's lines without their ends, blank ones left out.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// AddStdio asks the daemon to start the stdio server and install it. Its
// environment, when it has one, is kept here sealed, and the daemon's
// bridge fetches it at each start; the daemon checks the command and the
// names and refuses a server that does not start, and then nothing is
// kept. The audit entry names the executable and the environment's names,
// never their values or the arguments (either may carry a secret).
func (s *Service) AddStdio(ctx context.Context, u *store.User, f StdioForm) (*apispec.Installation, error) {
	name := strings.TrimSpace(f.Name)
	target := "mcp/" + name
	if u == nil || !u.Role.AtLeast(store.RoleAdmin) {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may add MCP servers.")
	}
	req := apispec.MCPServerRequest{Name: name}
	if cmd := strings.TrimSpace(f.Command); cmd != "" {
		req.Command = append([]string{cmd}, lines(f.Args)...)
	}
	env := lines(f.Env)
	var names []string
	srv := &store.MCPServer{ID: uuid.NewString(), Name: name, Secrets: map[string]string{}, CreatedAt: time.Now().UTC()}
	for i, e := range env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || !envName.MatchString(k) || strings.HasPrefix(k, "PLUGBOARD_") {
			// The line may be a pasted secret: it is named by its number, never echoed.
			return nil, &store.FieldError{Field: "env", Message: fmt.Sprintf(
				"Write each variable as NAME=value, NAME of letters, digits and _ not starting with PLUGBOARD_ (line %d is not).", i+1)}
		}
		srv.Secrets[k] = v
		names = append(names, k)
	}
	if len(env) > 0 {
		if s.cfg.Keys == nil {
			return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "Secrets cannot be stored: the keyring is not open.")
		}
		token := randomToken()
		if err := s.cfg.Store.CreateMCPServer(ctx, s.cfg.Keys, srv, token); err != nil {
			return nil, err
		}
		req.Relay, req.RelayToken = RelayPrefix+srv.ID+"/env", token
	}
	inst, err := s.cfg.Daemon.AddMCPServer(ctx, req)
	if err != nil {
		if len(env) > 0 {
			s.forget(ctx, name)
		}
		s.audit(ctx, u.Username, target, plugboard.ErrorMessage(err), store.OutcomeFailure)
		return nil, err
	}
	detail := "command " + req.Command[0]
	if len(names) > 0 {
		detail += "; environment " + strings.Join(names, ", ")
	}
	s.audit(ctx, u.Username, target, detail, store.OutcomeSuccess)
	return inst, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// forget removes a refused server's record.
func (s *Service) forget(ctx context.Context, name string) {
	if err := s.cfg.Store.DeleteMCPServer(context.WithoutCancel(ctx), name); err != nil {
		s.cfg.Logger.Error("remove refused MCP server", "server", name, "err", err)
	}
}

// ServeEnv answers a stdio server's bridge with its environment (a JSON
// list of NAME=value); a wrong token is 401 with nothing else.
func (s *Service) ServeEnv(w http.ResponseWriter, r *http.Request, id string) {
	if s.cfg.Keys == nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	srv, err := s.cfg.Store.FindMCPServer(r.Context(), s.cfg.Keys, id)
	if err != nil || srv.URL != "" || !srv.RelayAllows(r.Header.Get(mcpbridge.RelayHeader)) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	env := make([]string, 0, len(srv.Secrets))
	for k, v := range srv.Secrets {
		env = append(env, k+"="+v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(env)
}

var headerName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// Add records an HTTP server (headers sealed), asks the daemon to start it
// through the relay and, once its tools are listed, keeps it; any refusal
// (a bad URL, an address the guard blocks, a server that does not answer
// or refuses the token) leaves nothing behind. Only admins may. The audit
// entry names the URL, never a header's value.
func (s *Service) Add(ctx context.Context, u *store.User, f Form) (*apispec.Installation, error) {
	name := strings.TrimSpace(f.Name)
	target := "mcp/" + name
	if u == nil || !u.Role.AtLeast(store.RoleAdmin) {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may add MCP servers.")
	}
	if s.cfg.Keys == nil {
		return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "Secrets cannot be stored: the keyring is not open.")
	}
	srv := &store.MCPServer{ID: uuid.NewString(), Name: name, Secrets: map[string]string{}, CreatedAt: time.Now().UTC()}
	parsed, err := netguard.CheckURL(strings.TrimSpace(f.URL))
	if err != nil {
		return nil, &store.FieldError{Field: "url", Message: err.Error()}
	}
	srv.URL = parsed.String()
	if err := s.checkHost(ctx, parsed.Hostname()); err != nil {
		return nil, &store.FieldError{Field: "url", Message: err.Error()}
	}
	if t := strings.TrimSpace(f.Token); t != "" {
		srv.Secrets["Authorization"] = "Bearer " + t
	}
	for _, line := range strings.Split(f.Headers, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if k = strings.TrimSpace(k); !ok || !headerName.MatchString(k) {
			return nil, &store.FieldError{Field: "headers", Message: "Write each header as Name: value (" + strings.TrimSpace(strings.SplitN(line, ":", 2)[0]) + " is not one)."}
		}
		srv.Secrets[http.CanonicalHeaderKey(k)] = strings.TrimSpace(v)
	}
	token := randomToken()
	if err := s.cfg.Store.CreateMCPServer(ctx, s.cfg.Keys, srv, token); err != nil {
		return nil, err
	}
	inst, err := s.cfg.Daemon.AddMCPServer(ctx, apispec.MCPServerRequest{Name: name, Relay: RelayPrefix + srv.ID, RelayToken: token})
	if err != nil {
		s.forget(ctx, name)
		s.audit(ctx, u.Username, target, plugboard.ErrorMessage(err), store.OutcomeFailure)
		return nil, err
	}
	s.audit(ctx, u.Username, target, "Streamable HTTP "+parsed.Redacted(), store.OutcomeSuccess)
	return inst, nil
}

func (s *Service) audit(ctx context.Context, who, target, detail, outcome string) {
	if err := s.cfg.Store.AuditOutcome(ctx, who, store.AuditMCPServerAdd, target, detail, outcome); err != nil {
		s.cfg.Logger.Error("audit log write failed", "target", target, "err", err)
	}
}

// checkHost resolves host and asks the guard about each address, so a
// blocked one is refused in the form; the relay's dials are checked again.
func (s *Service) checkHost(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%s cannot be resolved: %v", host, err)
	}
	for _, a := range addrs {
		if err := s.cfg.Guard.Check(host, a.Unmap()); err != nil {
			return err
		}
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// relayed are the request headers passed on to the server (the rest, the
// relay token among them, stay here).
var relayed = []string{"Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id"}

// answered are the response headers passed back.
var answered = []string{"Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Cache-Control"}

// ServeRelay relays one request of the daemon's bridge for server id to
// the server, through the guard, with its headers; the answer (a JSON
// body or an event stream) is copied back as it arrives. A wrong token is
// 401 with nothing else; a refused address or an unreachable server is
// 502 with the reason.
func (s *Service) ServeRelay(w http.ResponseWriter, r *http.Request, id string) {
	if s.cfg.Keys == nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	srv, err := s.cfg.Store.FindMCPServer(r.Context(), s.cfg.Keys, id)
	if err != nil || srv.URL == "" || !srv.RelayAllows(r.Header.Get(mcpbridge.RelayHeader)) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, srv.URL, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range relayed {
		if v := r.Header.Values(h); len(v) > 0 {
			out.Header[h] = v
		}
	}
	for k, v := range srv.Secrets {
		out.Header.Set(k, v)
	}
	resp, err := s.client.Do(out)
	if err != nil {
		s.cfg.Logger.Warn("MCP relay", "server", srv.Name, "err", err)
		http.Error(w, "MCP server "+srv.Name+" cannot be reached: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range answered {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			if err != io.EOF {
				s.cfg.Logger.Warn("MCP relay: the server's answer broke off", "server", srv.Name, "err", err)
			}
			return
		}
	}
}
