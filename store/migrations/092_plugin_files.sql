-- Files plugins upload through a call back (Dify's upload_file): the call
-- gives the plugin an unguessable upload token, good until upload_expires_at;
-- the plugin POSTs the bytes once; the file is then served at its download
-- token until expires_at, so a tool's output can link to it.
CREATE TABLE plugin_files (
	id                TEXT PRIMARY KEY,
	upload_token      TEXT UNIQUE,
	download_token    TEXT NOT NULL UNIQUE,
	plugin_id         TEXT NOT NULL,
	user_id           TEXT NOT NULL DEFAULT '',
	filename          TEXT NOT NULL,
	mime_type         TEXT NOT NULL,
	size              INTEGER NOT NULL DEFAULT 0,
	data              BLOB,
	created_at        INTEGER NOT NULL,
	upload_expires_at INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL
);
CREATE INDEX plugin_files_expiry ON plugin_files (expires_at);
