// Package debugging serves the daemon's remote debugging port: a plugin
// running on a developer's machine connects over TCP, proves its tenant with
// the tenant's debug key, sends its declarations, and is then served like an
// installed plugin for as long as it stays connected (Dify's remote
// debugging runtime).
//
// The plugin sends one JSON line each:
//
//	{"type":"handshake","data":{"key":K}}            within HandshakeTimeout of connecting
//	{"type":"manifest_declaration","data":{…}}
//	{"type":"tool_declaration","data":[{…}]}         only element 0 is used
//	                                                 (likewise model_, endpoint_, agent_strategy_,
//	                                                 datasource_ and trigger_declaration)
//	{"type":"asset_chunk","data":{"filename","data":base64,"end"}}   repeated
//	{"type":"end","data":{}}
//
// after which the connection carries the runtime protocol. A wrong key gets
// the plain line "handshake failed, invalid key" and the connection is
// closed; no handshake in time closes it; a declaration that does not
// validate gets "registration failed: <reason>" and is closed.
package debugging

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// Defaults of Config's zero fields.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultRegisterTimeout  = 60 * time.Second
	DefaultMaxAssets        = 50 << 20
	DefaultMaxConns         = 256
	// MaxLine is the longest line accepted before the runtime protocol starts.
	MaxLine = 5 << 20
)

// InvalidKey is the line a plugin with a wrong debug key gets (Dify's text).
const InvalidKey = "handshake failed, invalid key"

// Manager is what the server needs of the plugin manager (*manager.Manager).
type Manager interface {
	DebugKeyTenant(ctx context.Context, key string) (string, bool, error)
	AttachRemote(ctx context.Context, rp manager.RemotePlugin) (string, <-chan struct{}, error)
}

// Config tunes the server; zero fields take the defaults above.
type Config struct {
	HandshakeTimeout time.Duration // from connecting to a valid handshake
	RegisterTimeout  time.Duration // from the handshake to "end"
	MaxAssets        int64         // total decoded asset bytes
	MaxConns         int           // connections at once, handshaking or attached
	Logger           *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.RegisterTimeout <= 0 {
		c.RegisterTimeout = DefaultRegisterTimeout
	}
	if c.MaxAssets <= 0 {
		c.MaxAssets = DefaultMaxAssets
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server accepts remote plugins.
type Server struct {
	cfg   Config
	m     Manager
	log   *slog.Logger
	slots chan struct{}

	mu      sync.Mutex
	ln      net.Listener
	pending map[net.Conn]struct{} // connections still registering
	closed  bool
}

// New returns a Server registering plugins with m.
func New(cfg Config, m Manager) *Server {
	cfg = cfg.withDefaults()
	return &Server{cfg: cfg, m: m, log: cfg.Logger, slots: make(chan struct{}, cfg.MaxConns), pending: map[net.Conn]struct{}{}}
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return err
		}
		select {
		case s.slots <- struct{}{}:
			go s.handle(c)
		default:
			s.log.Warn("remote debugging: too many connections, refusing one", "remote", c.RemoteAddr().String(), "max", s.cfg.MaxConns)
			c.Close()
		}
	}
}

// Close stops accepting and closes the connections still registering.
// Attached plugins are disconnected by the manager's Close.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.pending {
		c.Close()
	}
	if s.ln != nil {
		return s.ln.Close()
	}
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track records a registering connection; false once the server is closed.
func (s *Server) track(c net.Conn, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && s.closed {
		return false
	}
	if on {
		s.pending[c] = struct{}{}
	} else {
		delete(s.pending, c)
	}
	return true
}

// handle registers one connection and hands it to the manager.
func (s *Server) handle(c net.Conn) {
	release := func() { <-s.slots }
	if !s.track(c, true) {
		c.Close()
		release()
		return
	}
	gone, err := s.register(c)
	s.track(c, false)
	if err != nil {
		c.Close()
		release()
		return
	}
	go func() { <-gone; release() }()
}

// register runs the handshake and the declarations, then attaches the plugin.
func (s *Server) register(c net.Conn) (<-chan struct{}, error) {
	remote := c.RemoteAddr().String()
	br := bufio.NewReaderSize(c, 64<<10)
	c.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	tenant, err := s.handshake(c, br)
	if err != nil {
		s.log.Info("remote debugging: handshake failed", "remote", remote, "err", err)
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(s.cfg.RegisterTimeout))
	rp, err := s.declarations(br)
	if err == nil {
		c.SetReadDeadline(time.Time{})
		rp.Tenant, rp.Reader, rp.Writer, rp.Closer = tenant, br, c, c
		var uid string
		var gone <-chan struct{}
		if uid, gone, err = s.m.AttachRemote(context.Background(), rp); err == nil {
			s.log.Info("remote debugging: plugin connected", "remote", remote, "tenant", tenant, "plugin", uid)
			return gone, nil
		}
	}
	s.log.Info("remote debugging: registration failed", "remote", remote, "tenant", tenant, "err", err)
	refuse(c, "registration failed: "+err.Error())
	return nil, err
}

// message is one line of the registration.
type message struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// handshake reads the first line and returns the key's tenant.
func (s *Server) handshake(c net.Conn, br *bufio.Reader) (string, error) {
	line, err := readLine(br)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "", fmt.Errorf("no handshake within %s, connection closed", s.cfg.HandshakeTimeout)
		}
		return "", err
	}
	var msg message
	var data struct {
		Key string `json:"key"`
	}
	if json.Unmarshal(line, &msg) != nil || msg.Type != "handshake" || json.Unmarshal(msg.Data, &data) != nil || data.Key == "" {
		refuse(c, InvalidKey)
		return "", errors.New("the first line is not a handshake with a key")
	}
	tenant, ok, err := s.m.DebugKeyTenant(context.Background(), data.Key)
	if err != nil || !ok {
		refuse(c, InvalidKey)
		return "", errors.Join(errors.New("unknown debug key"), err)
	}
	return tenant, nil
}

// declarations reads the declarations up to "end" and validates them.
func (s *Server) declarations(br *bufio.Reader) (manager.RemotePlugin, error) {
	var rp manager.RemotePlugin
	var manifest json.RawMessage
	var decls pkgfmt.RemoteDeclarations
	assets := newAssets(s.cfg.MaxAssets)
	for {
		line, err := readLine(br)
		if err != nil {
			return rp, fmt.Errorf("reading the declarations: %w", err)
		}
		var msg message
		if err := json.Unmarshal(line, &msg); err != nil {
			return rp, fmt.Errorf("a registration line is not JSON: %v", err)
		}
		switch msg.Type {
		case "manifest_declaration":
			manifest = msg.Data
		case "tool_declaration", "model_declaration", "endpoint_declaration", "agent_strategy_declaration", "datasource_declaration", "trigger_declaration":
			if err := setDeclaration(&decls, msg.Type, msg.Data); err != nil {
				return rp, err
			}
		case "asset_chunk":
			if err := assets.add(msg.Data); err != nil {
				return rp, err
			}
		case "end":
			if manifest == nil {
				return rp, errors.New("no manifest_declaration was sent before end")
			}
			man, err := pkgfmt.DecodeRemoteWith(manifest, decls, assets.files)
			if err != nil {
				return rp, err
			}
			rp.Manifest, rp.Assets = man, assets.files
			return rp, nil
		default:
			return rp, fmt.Errorf("unexpected message type %q during registration", msg.Type)
		}
	}
}

// setDeclaration keeps element 0 of a *_declaration list in decls.
func setDeclaration(decls *pkgfmt.RemoteDeclarations, typ string, data json.RawMessage) error {
	first, err := firstElement(typ, data)
	if err != nil {
		return err
	}
	switch typ {
	case "tool_declaration":
		decls.Tool = first
	case "model_declaration":
		decls.Model = first
	case "endpoint_declaration":
		decls.Endpoint = first
	case "agent_strategy_declaration":
		decls.AgentStrategy = first
	case "datasource_declaration":
		decls.Datasource = first
	default:
		decls.Trigger = first
	}
	return nil
}

// firstElement returns element 0 of a declaration list (nil when empty).
func firstElement(typ string, data json.RawMessage) (json.RawMessage, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s must be a list of declarations", typ)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list[0], nil
}

// assets gathers asset chunks within a total size.
type assets struct {
	max   int64
	total int64
	files map[string][]byte
}

func newAssets(max int64) *assets { return &assets{max: max, files: map[string][]byte{}} }

func (a *assets) add(data json.RawMessage) error {
	var chunk struct {
		Filename string `json:"filename"`
		Data     string `json:"data"`
	}
	if err := json.Unmarshal(data, &chunk); err != nil || chunk.Filename == "" {
		return errors.New("asset_chunk needs a filename and base64 data")
	}
	b, err := base64.StdEncoding.DecodeString(chunk.Data)
	if err != nil {
		return fmt.Errorf("asset_chunk %s: data is not base64: %v", chunk.Filename, err)
	}
	if a.total += int64(len(b)); a.total > a.max {
		return fmt.Errorf("assets exceed %d MiB in total", a.max>>20)
	}
	a.files[chunk.Filename] = append(a.files[chunk.Filename], b...)
	return nil
}

// readLine reads one non-empty line (without its newline) of at most MaxLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	for {
		var buf []byte
		for {
			part, err := br.ReadSlice('\n')
			buf = append(buf, part...)
			if len(buf) > MaxLine {
				return nil, fmt.Errorf("a registration line is over %d MiB", MaxLine>>20)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return nil, err
			}
			break
		}
		if line := strings.TrimSpace(string(buf)); line != "" {
			return []byte(line), nil
		}
	}
}

// refuse writes a plain-text line to the plugin (it is closed afterwards).
func refuse(c net.Conn, text string) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write([]byte(text + "\n"))
}
