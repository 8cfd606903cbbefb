-- GitHub release source settings: the REST API's base URL (github.com or a
-- GitHub Enterprise server's https://HOST/api/v3) and an optional token,
-- sealed by package store/secret with the additional data
-- "github_settings:token". One row.
CREATE TABLE github_settings (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	base_url   TEXT NOT NULL,
	token      BLOB,
	updated_at INTEGER NOT NULL,
	updated_by TEXT NOT NULL
);
