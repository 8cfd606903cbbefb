-- Uploaded packages: one row per accepted upload, keyed by its identifier.
CREATE TABLE packages (
	unique_identifier TEXT PRIMARY KEY,
	plugin_id         TEXT NOT NULL,
	version           TEXT NOT NULL,
	checksum          TEXT NOT NULL,
	declaration       TEXT NOT NULL, -- the manifest as JSON, tool provider included
	signed            INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL -- unix nanoseconds
);

-- Installations: one plugin installed for one tenant, at one package version.
CREATE TABLE installations (
	id                TEXT PRIMARY KEY,
	tenant_id         TEXT NOT NULL,
	plugin_id         TEXT NOT NULL,
	unique_identifier TEXT NOT NULL REFERENCES packages (unique_identifier),
	source            TEXT NOT NULL DEFAULT '',
	meta              TEXT NOT NULL DEFAULT '{}',
	runtime_type      TEXT NOT NULL DEFAULT 'local',
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	UNIQUE (tenant_id, plugin_id)
);
CREATE INDEX installations_package ON installations (unique_identifier);

-- Install and upgrade tasks with each plugin's progress as JSON.
CREATE TABLE tasks (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	status     TEXT NOT NULL,
	total      INTEGER NOT NULL,
	completed  INTEGER NOT NULL,
	plugins    TEXT NOT NULL DEFAULT '[]',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX tasks_tenant ON tasks (tenant_id, created_at);
