-- Public keys admins trust to sign plugin packages (package
-- daemon/signature), and the signature verdict of each package the app
-- previewed, by its unique identifier, so cards can show it.
CREATE TABLE trusted_keys (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
	fingerprint TEXT NOT NULL UNIQUE,
	public_key  TEXT NOT NULL,
	added_by    TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE package_verdicts (
	unique_identifier TEXT PRIMARY KEY,
	status            TEXT NOT NULL,
	key_name          TEXT NOT NULL DEFAULT '',
	fingerprint       TEXT NOT NULL DEFAULT '',
	signed_at         INTEGER NOT NULL DEFAULT 0,
	recorded_at       INTEGER NOT NULL
);
