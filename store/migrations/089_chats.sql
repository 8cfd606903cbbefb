-- The model playground's chats (issue #13): one row per chat with what
-- its list shows (the model and system prompt of its latest turn, how many
-- turns, their tokens and price, the latest answer's status and latency),
-- and one row per turn: the user's message, the model's answer (secrets
-- redacted), how it ended (done, failed, stopped), its finish reason,
-- tokens, price and latency (first token and total, in microseconds). A
-- turn names its model and parameters, which may change within a chat.
CREATE TABLE chats (
	id            TEXT PRIMARY KEY,
	user_id       INTEGER NOT NULL,
	username      TEXT NOT NULL,
	plugin_id     TEXT NOT NULL,
	provider      TEXT NOT NULL,
	model         TEXT NOT NULL,
	model_label   TEXT NOT NULL DEFAULT '',
	system        TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	turns         INTEGER NOT NULL DEFAULT 0,
	total_tokens  INTEGER NOT NULL DEFAULT 0,
	total_price   TEXT NOT NULL DEFAULT '',
	currency      TEXT NOT NULL DEFAULT '',
	last_status   TEXT NOT NULL DEFAULT '',
	last_first_us INTEGER NOT NULL DEFAULT 0,
	last_took_us  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chats_user ON chats (user_id, updated_at DESC);
CREATE INDEX chats_updated ON chats (updated_at DESC);

CREATE TABLE chat_turns (
	chat_id           TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
	seq               INTEGER NOT NULL,
	plugin_id         TEXT NOT NULL,
	provider          TEXT NOT NULL,
	model             TEXT NOT NULL,
	params            TEXT NOT NULL DEFAULT '{}',
	message           TEXT NOT NULL,
	answer            TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL CHECK (status IN ('done', 'failed', 'stopped')),
	error             TEXT NOT NULL DEFAULT '',
	finish_reason     TEXT NOT NULL DEFAULT '',
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	total_tokens      INTEGER NOT NULL DEFAULT 0,
	price             TEXT NOT NULL DEFAULT '',
	currency          TEXT NOT NULL DEFAULT '',
	first_us          INTEGER NOT NULL DEFAULT 0,
	took_us           INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	PRIMARY KEY (chat_id, seq)
);
