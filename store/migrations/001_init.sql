-- Users of the admin app, their sessions, sign-in attempts and settings.
CREATE TABLE users (
	id                  INTEGER PRIMARY KEY,
	username            TEXT NOT NULL UNIQUE,
	password_hash       TEXT NOT NULL,
	role                TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
	created_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
	id         INTEGER PRIMARY KEY,
	username   TEXT NOT NULL,
	ip         TEXT NOT NULL,
	ok         INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, created_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, created_at);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
