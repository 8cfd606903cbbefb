-- Settings an admin changed for one plugin (all its versions and tenants);
-- a plugin without a row uses the daemon's defaults.
CREATE TABLE plugin_settings (
	plugin_id         TEXT PRIMARY KEY,
	invoke_timeout_ms INTEGER NOT NULL DEFAULT 0, -- 0: the daemon's default
	updated_at        INTEGER NOT NULL
);
