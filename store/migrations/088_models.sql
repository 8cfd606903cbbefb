-- Model providers' credentials and customizable models (issue #13). A row
-- with model_type and model '' is a provider's credential (its predefined
-- models share it); a row naming them is a customizable model with its own
-- credentials. Keyed by plugin id, not installation, as tool credentials
-- are. Secret fields are sealed (store/secret) one by one with the aad
-- "model_credential:<id>:<field>"; other fields are plain JSON.
CREATE TABLE model_credentials (
	id            INTEGER PRIMARY KEY,
	plugin_id     TEXT NOT NULL,
	provider      TEXT NOT NULL,
	model_type    TEXT NOT NULL DEFAULT '',
	model         TEXT NOT NULL DEFAULT '',
	plain_values  TEXT NOT NULL DEFAULT '{}',
	sealed_values TEXT NOT NULL DEFAULT '{}',
	created_by    TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	UNIQUE (plugin_id, provider, model_type, model)
);

-- The workspace's default model of each model type (llm, text-embedding,
-- rerank, tts, speech2text), used by the agent, by plugins that call back
-- and preselected in the model playground.
CREATE TABLE default_models (
	model_type TEXT PRIMARY KEY,
	plugin_id  TEXT NOT NULL,
	provider   TEXT NOT NULL,
	model      TEXT NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
