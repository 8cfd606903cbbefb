-- Auto-upgrade of installed plugins from their source (the marketplace):
-- per plugin, a strategy and a time of day (minutes after midnight, UTC);
-- last_run is when the scheduler last checked it (unix seconds, 0: never).
CREATE TABLE auto_upgrades (
	plugin_id  TEXT PRIMARY KEY,
	strategy   TEXT NOT NULL CHECK (strategy IN ('disabled', 'patch', 'latest')),
	minute     INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 1439),
	last_run   INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
);
