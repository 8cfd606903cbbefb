-- Remote debugging keys: one per tenant, kept until regenerated.
CREATE TABLE debug_keys (
	tenant_id  TEXT PRIMARY KEY,
	key        TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL -- unix nanoseconds
);
