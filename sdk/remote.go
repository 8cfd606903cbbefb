package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// Remote debugging environment, with Dify's variable names: INSTALL_METHOD
// "remote" makes Run connect to the daemon's debugging port at
// REMOTE_INSTALL_URL (host:port) — or REMOTE_INSTALL_HOST and
// REMOTE_INSTALL_PORT — and identify with REMOTE_INSTALL_KEY.
const (
	EnvInstallMethod = "INSTALL_METHOD"
	EnvRemoteURL     = "REMOTE_INSTALL_URL"
	EnvRemoteHost    = "REMOTE_INSTALL_HOST"
	EnvRemotePort    = "REMOTE_INSTALL_PORT"
	EnvRemoteKey     = "REMOTE_INSTALL_KEY"
)

// assetChunk is the size of one asset_chunk's decoded data (Dify's SDK: 8 KiB).
const assetChunk = 8 << 10

// RemoteConfig says where a remote (debugging) plugin connects.
type RemoteConfig struct {
	Addr string // the daemon's debugging port, host:port
	Key  string // the workspace's debug key
	Dir  string // the plugin's source directory (manifest.yaml, provider, tools, _assets)
}

// RemoteConfigFromEnv reads the remote debugging settings from the
// environment; ok is false unless INSTALL_METHOD is "remote". The plugin
// directory is the working directory.
func RemoteConfigFromEnv() (cfg RemoteConfig, ok bool, err error) {
	if !strings.EqualFold(os.Getenv(EnvInstallMethod), "remote") {
		return cfg, false, nil
	}
	cfg.Addr = os.Getenv(EnvRemoteURL)
	if host := os.Getenv(EnvRemoteHost); host != "" {
		cfg.Addr = net.JoinHostPort(host, os.Getenv(EnvRemotePort))
	}
	cfg.Key, cfg.Dir = os.Getenv(EnvRemoteKey), "."
	switch {
	case cfg.Addr == "":
		return cfg, true, fmt.Errorf("sdk: INSTALL_METHOD=remote needs %s (host:port) or %s and %s", EnvRemoteURL, EnvRemoteHost, EnvRemotePort)
	case cfg.Key == "":
		return cfg, true, fmt.Errorf("sdk: INSTALL_METHOD=remote needs %s (the workspace's debug key)", EnvRemoteKey)
	}
	return cfg, true, nil
}

// ServeRemote connects to the daemon's debugging port, sends the handshake
// and the plugin's declarations read from cfg.Dir, and then serves requests
// over the connection like Serve. It returns nil when the daemon closes the
// connection, and an error naming the daemon's reason when it refuses the
// plugin (a wrong key, a declaration that does not validate).
func (p *Plugin) ServeRemote(ctx context.Context, cfg RemoteConfig) error {
	lines, err := registration(cfg)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("sdk: connect to the daemon's debugging port: %w", err)
	}
	defer conn.Close()
	w := bufio.NewWriterSize(conn, 64<<10)
	for _, l := range lines {
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sdk: send the declarations: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err = p.Serve(ctx, &refusalReader{br: bufio.NewReaderSize(conn, 64<<10), lineStart: true}, conn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, syscall.ECONNRESET) {
		// The daemon closed the connection while our heartbeat was unread
		// in its buffer: its kernel answers with a reset, not a clean end.
		return nil
	}
	return err
}

// Reconnect delays of RunRemote: the first retry, and the cap it doubles up to.
const (
	reconnectMin = 500 * time.Millisecond
	reconnectMax = 10 * time.Second
)

// RunRemote serves over the debugging port like ServeRemote, and connects
// again whenever the connection ends or cannot be made — a daemon restart,
// a network blip — until ctx ends (it then returns nil). A refusal by the
// daemon (a wrong key, an invalid declaration) is returned at once: trying
// again would not help.
func (p *Plugin) RunRemote(ctx context.Context, cfg RemoteConfig) error {
	delay := reconnectMin
	for {
		started := time.Now()
		err := p.ServeRemote(ctx, cfg)
		var refused *RefusedError
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &refused):
			return err
		case time.Since(started) > reconnectMax:
			delay = reconnectMin // it was connected for a while: retry soon
		}
		why := "the daemon closed the connection"
		if err != nil {
			why = err.Error()
		}
		fmt.Fprintf(os.Stderr, "plugboard sdk: %s; connecting again in %s\n", why, delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, reconnectMax)
	}
}

// registration builds the lines sent before the runtime protocol.
func registration(cfg RemoteConfig) ([][]byte, error) {
	pkg, err := readDeclarations(cfg.Dir)
	if err != nil {
		return nil, err
	}
	msg := func(typ string, data any) []byte {
		b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
		return b
	}
	lines := [][]byte{
		msg("handshake", map[string]string{"key": cfg.Key}),
		msg("manifest_declaration", pkg.Manifest),
	}
	if pkg.Manifest.Tool != nil {
		lines = append(lines, msg("tool_declaration", []any{pkg.Manifest.Tool}))
	}
	if pkg.Manifest.Model != nil {
		lines = append(lines, msg("model_declaration", []any{pkg.Manifest.Model}))
	}
	for _, f := range pkg.Files() {
		name, ok := strings.CutPrefix(f, "_assets/")
		if !ok {
			continue
		}
		data, _ := pkg.ReadFile(f)
		for off := 0; off == 0 || off < len(data); off += assetChunk {
			chunk := data[off:min(off+assetChunk, len(data))]
			end := off+assetChunk >= len(data)
			lines = append(lines, msg("asset_chunk", map[string]any{
				"filename": name, "data": base64.StdEncoding.EncodeToString(chunk), "end": end}))
		}
	}
	return append(lines, msg("end", map[string]any{})), nil
}

// readDeclarations reads and validates the plugin's manifest, provider and
// tool yaml and its assets from dir — the files a package would hold,
// leaving out code and binaries.
func readDeclarations(dir string) (*pkgfmt.Package, error) {
	_, pkg, err := pkgfmt.PackWith(os.DirFS(dir), pkgfmt.DefaultLimits(), pkgfmt.PackOptions{Skip: notDeclaration})
	if err != nil {
		return nil, fmt.Errorf("sdk: the plugin's declarations in %s: %w", dir, err)
	}
	return pkg, nil
}

// notDeclaration reports whether the file at slash path p is not one
// readDeclarations sends: only yaml, markdown and _assets/ count, and
// nothing under a hidden folder, bin or node_modules.
func notDeclaration(p string) bool {
	dirs := strings.Split(path.Dir(p), "/")
	for _, d := range dirs {
		if d != "." && (strings.HasPrefix(d, ".") || d == "bin" || d == "node_modules") {
			return true
		}
	}
	ext := path.Ext(p)
	return !strings.HasPrefix(p, "_assets/") && ext != ".yaml" && ext != ".yml" && ext != ".md"
}

// RefusedError is the daemon's plain-text refusal of a remote plugin, such
// as "handshake failed, invalid key".
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "sdk: the daemon refused this plugin: " + e.Reason }

// refusalReader passes the runtime protocol's JSON lines through and turns
// a plain-text line from the daemon into a *RefusedError.
type refusalReader struct {
	br        *bufio.Reader
	lineStart bool
	err       error
}

func (r *refusalReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	first, err := r.br.Peek(1)
	if err != nil {
		return 0, err
	}
	if r.lineStart && !bytes.ContainsAny(first, "{ \r\n\t") {
		line, _ := r.br.ReadString('\n')
		r.err = &RefusedError{Reason: strings.TrimSpace(line)}
		return 0, r.err
	}
	buf, _ := r.br.Peek(r.br.Buffered())
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i+1]
	}
	n := copy(p, buf)
	r.br.Discard(n)
	r.lineStart = p[n-1] == '\n'
	return n, nil
}
