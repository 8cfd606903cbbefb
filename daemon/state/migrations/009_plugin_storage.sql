-- The key-value storage plugins reach through calls back (Dify's
-- "storage" invoke type), namespaced per tenant and plugin id (author/name,
-- so it outlives upgrades), and each namespace's usage in bytes of values,
-- kept in step by the same transactions, which the quota is checked against.
CREATE TABLE plugin_storage (
	tenant_id  TEXT NOT NULL,
	plugin_id  TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      BLOB NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, plugin_id, key)
) WITHOUT ROWID;

CREATE TABLE plugin_storage_usage (
	tenant_id TEXT NOT NULL,
	plugin_id TEXT NOT NULL,
	bytes     INTEGER NOT NULL CHECK (bytes >= 0),
	PRIMARY KEY (tenant_id, plugin_id)
) WITHOUT ROWID;
