-- Tool playground runs: one row per invocation (parameters with secret
-- values redacted, status and timings) and one row per tool message it
-- produced, in order. Blobs are kept in the event row.
CREATE TABLE runs (
	id            TEXT PRIMARY KEY,
	user_id       INTEGER NOT NULL,
	username      TEXT NOT NULL,
	plugin_id     TEXT NOT NULL,
	provider      TEXT NOT NULL,
	tool          TEXT NOT NULL,
	credential_id INTEGER NOT NULL DEFAULT 0,
	params        TEXT NOT NULL DEFAULT '{}',
	status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
	error         TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	first_at      INTEGER NOT NULL DEFAULT 0,
	ended_at      INTEGER NOT NULL DEFAULT 0,
	messages      INTEGER NOT NULL DEFAULT 0,
	bytes         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_user ON runs (user_id, created_at DESC);
CREATE INDEX runs_created ON runs (created_at DESC);

CREATE TABLE run_events (
	run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	type    TEXT NOT NULL,
	payload TEXT NOT NULL DEFAULT '{}',
	blob    BLOB,
	PRIMARY KEY (run_id, seq)
);
