package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/mcpbridge"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

// MCP servers: an admin's stdio MCP server is an installation of runtime
// type and source "mcp", plugin id mcp/<name>, whose process is this binary
// as daemon/mcpbridge (contained, supervised, restarted and logged by the
// runtime like any plugin's), which runs the server's command and serves its
// tools under the provider <name>. The server's config is kept in
// daemon/state (mcp_servers); its tools are read from the file the bridge
// writes at each start, so every surface lists and invokes them as a
// plugin's.
const (
	RuntimeMCP = "mcp"
	SourceMCP  = "mcp"
	mcpDir     = "mcp"
	// MCPAuthor is the author part of an MCP server's plugin id.
	MCPAuthor = "mcp"
)

// mcpStartTimeout bounds an MCP server's start: the bridge's first heartbeat
// comes after the server's initialization and tools/list.
const mcpStartTimeout = 90 * time.Second

// AddMCPServer starts the tenant's MCP server req and, once its tools are
// listed, installs it. A server that does not start is refused with its
// words and nothing is kept.
func (m *Manager) AddMCPServer(ctx context.Context, tenant string, req apispec.MCPServerRequest) (*apispec.Installation, error) {
	if err := m.checkMCP(req); err != nil {
		return nil, err
	}
	s := &state.MCPServer{TenantID: tenant, Name: req.Name, Command: req.Command, Env: req.Env,
		Relay: req.Relay, RelayToken: req.RelayToken, CreatedAt: m.cfg.Now().UTC()}
	id := mcpIdentifier(s)
	s.ID = uuid.NewSHA1(remoteNamespace, []byte(tenant+"\x00"+id.String())).String()
	unlock := m.locks.lock(id.PluginID())
	defer unlock()
	if cur := m.lookup(tenant, id.PluginID()); cur != nil {
		return nil, plugboard.Errorf(plugboard.ECONFLICT, "an MCP server named %q already exists", req.Name)
	}
	dir := m.mcpWorkDir(s)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fail := func(err error) (*apispec.Installation, error) {
		m.rt.Stop(id.String())
		os.RemoveAll(dir)
		return nil, err
	}
	if err := m.startMCP(ctx, s, id, dir); err != nil {
		return fail(err)
	}
	in := m.mcpInstalled(s, id, dir)
	if st, ok := m.rt.Status(id.String()); ok {
		in.mcpStarted = st.StartedAt
	}
	if err := m.db.AddMCPServer(ctx, s); err != nil {
		return fail(err)
	}
	m.setInstalled(in)
	out := m.installation(in)
	return &out, nil
}

func (m *Manager) checkMCP(req apispec.MCPServerRequest) error {
	if err := mcpbridge.CheckName(req.Name); err != nil {
		return err
	}
	if req.Relay != "" {
		switch {
		case len(req.Env) > 0:
			return plugboard.Errorf(plugboard.EINVALID, "an MCP server's environment comes from its relay or its request, not both")
		case !strings.HasPrefix(req.Relay, "/") || req.RelayToken == "":
			return plugboard.Errorf(plugboard.EINVALID, "relay: a path on the platform and its token are required")
		case m.cfg.CallBacks.PlatformURL == "":
			return plugboard.Errorf(plugboard.EUNAVAILABLE, "this daemon has no platform URL to reach an MCP server's relay at")
		}
		if len(req.Command) == 0 {
			return nil
		}
	}
	return mcpbridge.CheckCommand(req.Command, req.Env)
}

// mcpIdentifier is the server's identifier: mcp/<name>, its config's digest.
func mcpIdentifier(s *state.MCPServer) plugboard.Identifier {
	cfg, _ := json.Marshal([]any{s.TenantID, s.Name, s.Command, s.Env, s.Relay})
	sum := sha256.Sum256(cfg)
	return plugboard.Identifier{Author: MCPAuthor, Name: s.Name, Version: "0.0.1", Checksum: hex.EncodeToString(sum[:])}
}

func (m *Manager) mcpWorkDir(s *state.MCPServer) string {
	t := sha256.Sum256([]byte(s.TenantID))
	return filepath.Join(m.cfg.DataDir, mcpDir, hex.EncodeToString(t[:8]), s.Name)
}

// startMCP starts the bridge for s, contained like a plugin.
func (m *Manager) startMCP(ctx context.Context, s *state.MCPServer, id plugboard.Identifier, dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env, read := []string{mcpbridge.EnvProvider + "=" + s.Name}, []string{}
	if v := os.Getenv(mcpbridge.EnvPing); v != "" {
		env = append(env, mcpbridge.EnvPing+"="+v)
	}
	relay := ""
	if s.Relay != "" {
		relay = strings.TrimRight(m.cfg.CallBacks.PlatformURL, "/") + s.Relay
	}
	if len(s.Command) == 0 {
		raw, _ := json.Marshal(mcpbridge.Server{URL: relay, Token: s.RelayToken})
		env = append(env, mcpbridge.EnvServer+"="+string(raw))
	} else {
		argv, dir := mcpbridge.Resolve(s.Command)
		if dir != "" {
			read = append(read, dir)
		}
		raw, _ := json.Marshal(mcpbridge.Server{Command: argv, EnvURL: relay, Token: s.RelayToken})
		env = append(append(env, mcpbridge.EnvServer+"="+string(raw)), s.Env...)
	}
	return m.rt.Start(ctx, runtime.Spec{
		Key: id.String(), PluginID: id.PluginID(), Dir: dir,
		Command: []string{self}, Env: env,
		StartTimeout: mcpStartTimeout, InvokeTimeout: m.timeouts.get(id.PluginID()),
		ReadOnly: read, Hide: append([]string{m.cfg.DataDir}, m.cfg.HideDirs...),
	})
}

// mcpInstalled indexes s with the tools its bridge last listed.
func (m *Manager) mcpInstalled(s *state.MCPServer, id plugboard.Identifier, dir string) *installed {
	what := "MCP server " + filepath.Base(firstOr(s.Command, "")) + " (stdio)"
	entry := firstOr(s.Command, "")
	if len(s.Command) == 0 {
		what, entry = "MCP server (Streamable HTTP)", "http"
	}
	var tools []plugboard.Tool
	if data, err := os.ReadFile(filepath.Join(dir, mcpbridge.ToolsFile)); err == nil {
		if err := json.Unmarshal(data, &tools); err != nil {
			m.log.Warn("MCP server's tools unreadable", "server", s.Name, "err", err)
		}
	}
	if tools == nil {
		tools = []plugboard.Tool{}
	}
	man := &plugboard.Manifest{
		Version: id.Version, Type: "plugin", Author: MCPAuthor, Name: s.Name,
		Label: plugboard.I18n{"en_US": s.Name},
		// The executable only: an argument may carry a secret.
		Description: plugboard.I18n{"en_US": what},
		Tags:        []string{}, Plugins: plugboard.Plugins{Tools: []string{mcpbridge.ToolsFile}},
		Meta: plugboard.Meta{Version: "0.0.1", Arch: []string{}, Runner: plugboard.Runner{Language: RuntimeMCP, Entrypoint: entry}},
		Tool: mcpbridge.ProviderDeclaration(s.Name, s.Name, tools),
	}
	inst := &state.Installation{
		ID: s.ID, TenantID: s.TenantID, PluginID: id.PluginID(), UniqueIdentifier: id.String(),
		Source: SourceMCP, Meta: map[string]any{"command": entry}, RuntimeType: RuntimeMCP,
		CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt,
	}
	in := newInstalled(inst, id, man)
	in.mcp = s
	return in
}

// refreshMCP re-reads the tools of the tenant's MCP servers whose bridge
// was restarted since they were indexed (a server's tools may change with
// it); the lists and the playground see them at their next look.
func (m *Manager) refreshMCP(tenant string) {
	for _, in := range m.tenantInstallations(tenant) {
		if in.mcp == nil {
			continue
		}
		st, ok := m.rt.Status(in.uid)
		if !ok || st.State != apispec.StateRunning || st.StartedAt.Equal(in.mcpStarted) {
			continue
		}
		next := m.mcpInstalled(in.mcp, in.id, m.mcpWorkDir(in.mcp))
		next.mcpStarted = st.StartedAt
		m.replaceInstalled(in, next)
	}
}

// replaceInstalled puts next in old's place if old is still indexed.
func (m *Manager) replaceInstalled(old, next *installed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := indexKey{old.inst.TenantID, old.inst.PluginID}
	if (*m.index.Load())[k] != old {
		return
	}
	idx := maps.Clone(*m.index.Load())
	idx[k] = next
	m.index.Store(&idx)
}

// restoreMCP indexes the stored MCP servers and starts them in the background.
func (m *Manager) restoreMCP(ctx context.Context) error {
	servers, err := m.db.FindMCPServers(ctx)
	if err != nil {
		return err
	}
	for _, s := range servers {
		id, dir := mcpIdentifier(s), m.mcpWorkDir(s)
		m.setInstalled(m.mcpInstalled(s, id, dir))
		m.runs.set(id.String(), true, "")
		m.goBackground(func(ctx context.Context) {
			unlock := m.locks.lock(id.PluginID())
			defer unlock()
			err := os.MkdirAll(dir, 0o755)
			if err == nil {
				err = m.startMCP(ctx, s, id, dir)
			}
			if err != nil {
				m.rt.Stop(id.String())
				m.log.Error("restore MCP server", "server", s.Name, "err", err)
				m.runs.set(id.String(), false, err.Error())
				return
			}
			m.runs.set(id.String(), false, "")
			if cur := m.lookup(s.TenantID, id.PluginID()); cur != nil && cur.uid == id.String() {
				next := m.mcpInstalled(s, id, dir) // the tools it lists now
				if st, ok := m.rt.Status(id.String()); ok {
					next.mcpStarted = st.StartedAt
				}
				m.replaceInstalled(cur, next)
			}
		})
	}
	return nil
}

// removeMCP uninstalls an MCP server: its record, process and folder.
func (m *Manager) removeMCP(ctx context.Context, in *installed) error {
	if err := m.db.DeleteMCPServer(ctx, in.inst.TenantID, in.id.Name); err != nil {
		return err
	}
	m.removeInstalledIf(in)
	m.rt.Stop(in.uid)
	m.runs.set(in.uid, false, "")
	s := &state.MCPServer{TenantID: in.inst.TenantID, Name: in.id.Name}
	if err := os.RemoveAll(m.mcpWorkDir(s)); err != nil {
		return fmt.Errorf("remove MCP server folder: %w", err)
	}
	return nil
}

func firstOr(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	return list[0]
}
