package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// MCPServer is the app's part of an MCP server the daemon runs: a
// Streamable HTTP server's URL and the headers sent with every request (a
// bearer token among them), or a stdio server's environment (URL ""); the
// secrets are opened in memory only.
type MCPServer struct {
	ID, Name, URL string
	// Secrets are the headers (HTTP) or the environment (stdio), by name.
	Secrets   map[string]string
	CreatedAt time.Time
	relayHash string
}

// RelayAllows reports whether token is this server's relay token.
func (s *MCPServer) RelayAllows(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return token != "" && hex.EncodeToString(sum[:]) == s.relayHash
}

func mcpSecretsAAD(id string) string { return "mcp_server_secrets:" + id }

// CreateMCPServer records a server with its secrets sealed and the
// SHA-256 of its relay token; a name in use is an invalid name field.
func (db *DB) CreateMCPServer(ctx context.Context, keys Sealer, s *MCPServer, relayToken string) error {
	raw, err := json.Marshal(s.Secrets)
	if err != nil {
		return err
	}
	sealed, err := keys.Seal(raw, mcpSecretsAAD(s.ID))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(relayToken))
	s.relayHash = hex.EncodeToString(sum[:])
	_, err = db.write.ExecContext(ctx, `INSERT INTO mcp_servers (id, name, url, secrets, relay_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.Name, s.URL, sealed, s.relayHash, unixNano(s.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return &FieldError{Field: "name", Message: "An MCP server named " + s.Name + " already exists."}
	}
	return err
}

// FindMCPServer returns the server with its secrets opened.
func (db *DB) FindMCPServer(ctx context.Context, keys Sealer, id string) (*MCPServer, error) {
	var s MCPServer
	var sealed []byte
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT id, name, url, secrets, relay_hash, created_at FROM mcp_servers WHERE id = ?`, id).
		Scan(&s.ID, &s.Name, &s.URL, &sealed, &s.relayHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no MCP server %q.", id)
	}
	if err != nil {
		return nil, err
	}
	raw, err := keys.Open(sealed, mcpSecretsAAD(s.ID))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.Secrets); err != nil {
		return nil, err
	}
	s.CreatedAt = fromUnixNano(created)
	return &s, nil
}

// DeleteMCPServer removes the server named name (none: no error).
func (db *DB) DeleteMCPServer(ctx context.Context, name string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM mcp_servers WHERE name = ?`, name)
	return err
}
