-- MCP servers (stdio) an admin added as tool providers: run by the daemon
-- like plugins, restored at start. config is the command, its arguments and
-- environment as JSON.
CREATE TABLE mcp_servers (
	tenant_id  TEXT NOT NULL,
	name       TEXT NOT NULL,
	id         TEXT NOT NULL UNIQUE,
	config     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
