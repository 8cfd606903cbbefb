-- Files uploaded with a playground run, served to the plugin at an
-- unguessable, expiring URL (token) and removed with their run.
CREATE TABLE run_files (
	token      TEXT PRIMARY KEY,
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	param      TEXT NOT NULL,
	filename   TEXT NOT NULL,
	mime_type  TEXT NOT NULL,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX run_files_run ON run_files (run_id);
