package state

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// MCPServer is a stdio MCP server added as a tool provider.
type MCPServer struct {
	TenantID string
	Name     string
	ID       string
	Command  []string // the executable and its arguments
	Env      []string // KEY=VALUE
	// Relay and RelayToken are a Streamable HTTP server's, relayed by the
	// platform (Command is empty then).
	Relay, RelayToken string
	CreatedAt         time.Time
}

type mcpConfig struct {
	Command    []string `json:"command"`
	Env        []string `json:"env"`
	Relay      string   `json:"relay,omitempty"`
	RelayToken string   `json:"relay_token,omitempty"`
}

// AddMCPServer records s; a name the tenant already uses is an ECONFLICT.
func (d *DB) AddMCPServer(ctx context.Context, s *MCPServer) error {
	cfg, err := json.Marshal(mcpConfig{Command: s.Command, Env: s.Env, Relay: s.Relay, RelayToken: s.RelayToken})
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO mcp_servers (tenant_id, name, id, config, created_at) VALUES (?, ?, ?, ?, ?)`,
		s.TenantID, s.Name, s.ID, string(cfg), s.CreatedAt.UnixNano())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return plugboard.Errorf(plugboard.ECONFLICT, "an MCP server named %q already exists", s.Name)
	}
	return err
}

// DeleteMCPServer removes the tenant's server name.
func (d *DB) DeleteMCPServer(ctx context.Context, tenant, name string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM mcp_servers WHERE tenant_id = ? AND name = ?`, tenant, name)
	return err
}

// FindMCPServers lists every tenant's MCP servers.
func (d *DB) FindMCPServers(ctx context.Context) ([]*MCPServer, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT tenant_id, name, id, config, created_at FROM mcp_servers ORDER BY tenant_id, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*MCPServer
	for rows.Next() {
		var s MCPServer
		var cfg string
		var created int64
		if err := rows.Scan(&s.TenantID, &s.Name, &s.ID, &cfg, &created); err != nil {
			return nil, err
		}
		var c mcpConfig
		if err := json.Unmarshal([]byte(cfg), &c); err != nil {
			return nil, err
		}
		s.Command, s.Env, s.Relay, s.RelayToken, s.CreatedAt = c.Command, c.Env, c.Relay, c.RelayToken, fromUnix(created)
		out = append(out, &s)
	}
	return out, rows.Err()
}
