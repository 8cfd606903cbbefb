-- The secrets of the MCP servers added as tool providers, which the daemon
-- runs (plugin id mcp/<name>) but never stores: a Streamable HTTP server's
-- URL and headers (a bearer token), reached through the app's relay
-- /inner/mcp/<id>; a stdio server's environment, fetched by its bridge at
-- each start from /inner/mcp/<id>/env. Both ask for the relay token, whose
-- SHA-256 is kept here; secrets are sealed by store/secret (aad
-- mcp_server_secrets:<id>). url is '' for a stdio server.
CREATE TABLE mcp_servers (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	url         TEXT NOT NULL,
	secrets     BLOB NOT NULL,
	relay_hash  TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);
