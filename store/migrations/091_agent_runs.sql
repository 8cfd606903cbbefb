-- Agent runs: one row per run of the agent playground (its spec as JSON:
-- model, tools with the credential each uses, instructions, query, limits;
-- its status, answer and total usage) and one row per step (a model turn
-- and the tool calls it asked for, as JSON: the model's text, each call's
-- arguments, observation, files and timings, the step's usage and
-- timings). Secrets are redacted before anything is written.
CREATE TABLE agent_runs (
	id           TEXT PRIMARY KEY,
	user_id      INTEGER NOT NULL,
	username     TEXT NOT NULL,
	spec         TEXT NOT NULL DEFAULT '{}',
	status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
	answer       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	total_tokens INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	ended_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agent_runs_user ON agent_runs (user_id, created_at DESC);
CREATE INDEX agent_runs_created ON agent_runs (created_at DESC);

CREATE TABLE agent_steps (
	run_id TEXT NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
	n      INTEGER NOT NULL,
	data   TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (run_id, n)
);
