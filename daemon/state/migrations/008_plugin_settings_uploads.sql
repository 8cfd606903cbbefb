-- Settings an admin changed for one plugin (all its versions and tenants);
-- a plugin without a row uses the daemon's defaults.
CREATE TABLE plugin_settings (
	plugin_id         TEXT PRIMARY KEY,
	invoke_timeout_ms INTEGER NOT NULL DEFAULT 0, -- 0: the daemon's default
	updated_at        INTEGER NOT NULL
);

-- When a package was last uploaded (a re-upload refreshes it): packages never
-- installed are removed a while after their last upload.
ALTER TABLE packages ADD COLUMN uploaded_at INTEGER NOT NULL DEFAULT 0;
UPDATE packages SET uploaded_at = created_at;
