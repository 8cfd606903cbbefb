package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
)

// AgentRun is one run of an agent: who ran it, its spec (app/agent's, as
// JSON), how it ended and its steps in order.
type AgentRun struct {
	ID       string
	UserID   int64
	Username string
	// Spec is the run's model, tools, instructions and query as app/agent
	// encodes them, secrets left out.
	Spec   json.RawMessage
	Status string // RunRunning, RunDone, RunFailed or RunCancelled
	Answer string
	Error  string // why the run failed or stopped
	// TotalTokens are the model's tokens over every step.
	TotalTokens int
	CreatedAt   time.Time
	EndedAt     time.Time // zero while running
	// Steps are filled by FindAgentRun only.
	Steps []json.RawMessage
}

// Running reports whether the run has not ended.
func (r *AgentRun) Running() bool { return r.Status == RunRunning }

const agentRunColumns = `id, user_id, username, spec, status, answer, error, total_tokens, created_at, ended_at`

func scanAgentRun(s scanner) (*AgentRun, error) {
	var r AgentRun
	var spec string
	var created, ended int64
	if err := s.Scan(&r.ID, &r.UserID, &r.Username, &spec, &r.Status, &r.Answer, &r.Error, &r.TotalTokens, &created, &ended); err != nil {
		return nil, err
	}
	r.Spec, r.CreatedAt = json.RawMessage(spec), fromUnixNano(created)
	if ended != 0 {
		r.EndedAt = fromUnixNano(ended)
	}
	return &r, nil
}

// CreateAgentRun records a new running agent run; it fills r.ID, Status
// and CreatedAt.
func (db *DB) CreateAgentRun(ctx context.Context, r *AgentRun) error {
	if len(r.Spec) == 0 || !json.Valid(r.Spec) {
		return plugboard.Errorf(plugboard.EINVALID, "an agent run needs its spec as JSON")
	}
	r.ID, r.Status, r.CreatedAt = newRunID(), RunRunning, db.Now().UTC()
	_, err := db.write.ExecContext(ctx, `INSERT INTO agent_runs (id, user_id, username, spec, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.ID, r.UserID, r.Username, string(r.Spec), r.Status, unixNano(r.CreatedAt))
	return err
}

// SaveAgentStep stores step n (1, 2, …) of a run, replacing what was
// stored for it.
func (db *DB) SaveAgentStep(ctx context.Context, runID string, n int, data json.RawMessage) error {
	if !json.Valid(data) {
		return plugboard.Errorf(plugboard.EINVALID, "an agent step is JSON")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO agent_steps (run_id, n, data) VALUES (?, ?, ?)
		ON CONFLICT (run_id, n) DO UPDATE SET data = excluded.data`, runID, n, string(data))
	return err
}

// FinishAgentRun ends a running agent run with its status, answer, the
// reason it failed or stopped and its total tokens. A run that already
// ended keeps its first ending.
func (db *DB) FinishAgentRun(ctx context.Context, id, status, answer, reason string, tokens int) error {
	_, err := db.write.ExecContext(ctx, `UPDATE agent_runs SET status = ?, answer = ?, error = ?, total_tokens = ?, ended_at = ?
		WHERE id = ? AND status = ?`, status, answer, reason, tokens, unixNano(db.Now()), id, RunRunning)
	return err
}

// FindAgentRun returns the agent run with the id and its steps.
func (db *DB) FindAgentRun(ctx context.Context, id string) (*AgentRun, error) {
	r, err := scanAgentRun(db.read.QueryRowContext(ctx, `SELECT `+agentRunColumns+` FROM agent_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no agent run %q.", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT data FROM agent_steps WHERE run_id = ? ORDER BY n`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		r.Steps = append(r.Steps, json.RawMessage(data))
	}
	return r, rows.Err()
}

// FindAgentRuns returns the newest agent runs (without steps), of one user
// unless userID is 0, at most limit (0: 50).
func (db *DB) FindAgentRuns(ctx context.Context, userID int64, limit int) ([]*AgentRun, error) {
	if limit <= 0 {
		limit = 50
	}
	q, args := `SELECT `+agentRunColumns+` FROM agent_runs`, []any{}
	if userID != 0 {
		q, args = q+` WHERE user_id = ?`, append(args, userID)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY created_at DESC, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AgentRun
	for rows.Next() {
		r, err := scanAgentRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// InterruptAgentRuns marks agent runs still running (left by a previous
// process) as failed; it returns how many.
func (db *DB) InterruptAgentRuns(ctx context.Context) (int64, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE agent_runs SET status = ?, error = ?, ended_at = ? WHERE status = ?`,
		RunFailed, "The admin app stopped while the agent was running.", unixNano(db.Now()), RunRunning)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
