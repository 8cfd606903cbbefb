-- Named credentials of plugin tool providers. Keyed by plugin id (author/name)
-- and provider, not by installation, so uninstalling and reinstalling a
-- plugin finds them again. Secret fields are sealed (store/secret) one by one
-- with the aad "credential:<id>:<field>"; other fields are plain JSON.
CREATE TABLE credentials (
	id           INTEGER PRIMARY KEY,
	plugin_id    TEXT NOT NULL,
	provider     TEXT NOT NULL,
	name         TEXT NOT NULL,
	is_default   INTEGER NOT NULL DEFAULT 0,
	plain_values TEXT NOT NULL DEFAULT '{}',
	sealed_values TEXT NOT NULL DEFAULT '{}',
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	tested_at    INTEGER NOT NULL DEFAULT 0,
	test_ok      INTEGER NOT NULL DEFAULT 0,
	test_message TEXT NOT NULL DEFAULT '',
	UNIQUE (plugin_id, provider, name)
);
CREATE INDEX credentials_provider ON credentials (plugin_id, provider, is_default DESC, created_at);
