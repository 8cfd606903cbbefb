-- Streamable HTTP MCP servers added as tool providers: the daemon runs them
-- (plugin id mcp/<name>) through the app's relay, /inner/mcp/<id>, which
-- asks for the relay token (its SHA-256 kept here) and adds the headers
-- (sealed by store/secret, aad mcp_http_headers:<id>) on its way out
-- through the outbound guard.
CREATE TABLE mcp_http_servers (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	url         TEXT NOT NULL,
	headers     BLOB NOT NULL,
	relay_hash  TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);
