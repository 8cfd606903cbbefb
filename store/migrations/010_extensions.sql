-- API-based extensions (Dify's "API extension"): endpoints apps call for
-- external data and moderation. api_key is sealed by package store/secret
-- with the additional data "api_extension:<id>:api_key".
CREATE TABLE api_extensions (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	endpoint   TEXT NOT NULL,
	api_key    BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
