-- Sign-in throttling moves from counting attempts per username and per IP
-- address (which locked every account behind one address) to one row per
-- (username, client address) pair: its failures in a row and the time of
-- the latest, from which its backoff is counted.
DROP TABLE login_attempts;

CREATE TABLE login_failures (
	username TEXT NOT NULL,
	address  TEXT NOT NULL,
	failures INTEGER NOT NULL,
	last_at  INTEGER NOT NULL,
	PRIMARY KEY (username, address)
);
CREATE INDEX login_failures_last_at ON login_failures (last_at);
