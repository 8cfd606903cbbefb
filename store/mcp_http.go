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

// MCPHTTPServer is a Streamable HTTP MCP server: its address and the
// headers sent with every request (a bearer token among them), opened in
// memory only.
type MCPHTTPServer struct {
	ID, Name, URL string
	Headers       map[string]string
	CreatedAt     time.Time
	relayHash     string
}

// RelayAllows reports whether token is this server's relay token.
func (s *MCPHTTPServer) RelayAllows(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return token != "" && hex.EncodeToString(sum[:]) == s.relayHash
}

func mcpHeadersAAD(id string) string { return "mcp_http_headers:" + id }

// CreateMCPHTTPServer records a server with its headers sealed and the
// SHA-256 of its relay token; a name in use is an invalid name field.
func (db *DB) CreateMCPHTTPServer(ctx context.Context, keys Sealer, s *MCPHTTPServer, relayToken string) error {
	raw, err := json.Marshal(s.Headers)
	if err != nil {
		return err
	}
	sealed, err := keys.Seal(raw, mcpHeadersAAD(s.ID))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(relayToken))
	s.relayHash = hex.EncodeToString(sum[:])
	_, err = db.write.ExecContext(ctx, `INSERT INTO mcp_http_servers (id, name, url, headers, relay_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.Name, s.URL, sealed, s.relayHash, unixNano(s.CreatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return &FieldError{Field: "name", Message: "An MCP server named " + s.Name + " already exists."}
	}
	return err
}

// FindMCPHTTPServer returns the server with its headers opened.
func (db *DB) FindMCPHTTPServer(ctx context.Context, keys Sealer, id string) (*MCPHTTPServer, error) {
	var s MCPHTTPServer
	var sealed []byte
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT id, name, url, headers, relay_hash, created_at FROM mcp_http_servers WHERE id = ?`, id).
		Scan(&s.ID, &s.Name, &s.URL, &sealed, &s.relayHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no MCP server %q.", id)
	}
	if err != nil {
		return nil, err
	}
	raw, err := keys.Open(sealed, mcpHeadersAAD(s.ID))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.Headers); err != nil {
		return nil, err
	}
	s.CreatedAt = fromUnixNano(created)
	return &s, nil
}

// DeleteMCPHTTPServer removes the server named name (none: no error).
func (db *DB) DeleteMCPHTTPServer(ctx context.Context, name string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM mcp_http_servers WHERE name = ?`, name)
	return err
}
