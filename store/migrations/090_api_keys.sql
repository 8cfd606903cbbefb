-- API keys of the tool gateway (/mcp and /api/v1): what each may call
-- (scope, JSON), its rate limit, expiry, revocation and last use. Only the
-- SHA-256 of a key's secret is kept; prefix is its first characters, shown
-- to tell keys apart.
CREATE TABLE api_keys (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL,
	prefix          TEXT NOT NULL,
	secret_hash     TEXT NOT NULL UNIQUE,
	scope           TEXT NOT NULL DEFAULT '{}',
	rate_per_minute INTEGER NOT NULL DEFAULT 0,
	created_by      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL DEFAULT 0,
	last_used_at    INTEGER NOT NULL DEFAULT 0,
	revoked_at      INTEGER NOT NULL DEFAULT 0
);
