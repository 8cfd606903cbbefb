package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plugboard/plugboard"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunDone      = "done"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Run is one tool invocation from the playground.
type Run struct {
	ID           string
	UserID       int64
	Username     string
	PluginID     string // author/name
	Provider     string
	Tool         string
	CredentialID int64 // 0: none
	// Params are the tool parameters as sent, secret values redacted.
	Params map[string]any
	Status string // RunRunning, RunDone, RunFailed or RunCancelled
	Error  string // why a run failed
	// CreatedAt is when the run started, FirstAt when its first message
	// arrived (zero before), EndedAt when it ended (zero while running).
	CreatedAt time.Time
	FirstAt   time.Time
	EndedAt   time.Time
	Messages  int   // messages received
	Bytes     int64 // their payload and blob bytes
}

// Running reports whether the run has not ended.
func (r *Run) Running() bool { return r.Status == RunRunning }

// RunEventCallBack is the type of a run event that reports one of the
// plugin's calls back into the platform rather than a message of the tool:
// it does not make the run's first message (FirstAt).
const RunEventCallBack = "call_back"

// RunEvent is one tool message of a run (or a RunEventCallBack report).
type RunEvent struct {
	RunID   string
	Seq     int // 1, 2, … in arrival order
	Type    string
	Payload json.RawMessage
	Blob    []byte
	// At is when the message arrived, for the run's first message time
	// (zero: when it is stored); it is not stored.
	At time.Time
}

// RunFilter selects runs; a zero field selects all.
type RunFilter struct {
	UserID int64
	// Tool is plugin:provider:tool (as the playground's picker names it).
	Tool   string
	Status string
	// Query matches the tool, plugin, provider, user, parameters or error.
	Query  string
	Offset int
	Limit  int // 0: 100
}

// RunTool is a tool that has runs.
type RunTool struct{ PluginID, Provider, Tool string }

// Pick names the tool as the playground's picker does.
func (t RunTool) Pick() string { return t.PluginID + ":" + t.Provider + ":" + t.Tool }

// RunUser is a user who has runs.
type RunUser struct {
	ID       int64
	Username string
}

const runColumns = `id, user_id, username, plugin_id, provider, tool, credential_id, params, status, error,
	created_at, first_at, ended_at, messages, bytes`

func scanRun(s scanner) (*Run, error) {
	var r Run
	var params string
	var created, first, ended int64
	err := s.Scan(&r.ID, &r.UserID, &r.Username, &r.PluginID, &r.Provider, &r.Tool, &r.CredentialID,
		&params, &r.Status, &r.Error, &created, &first, &ended, &r.Messages, &r.Bytes)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = fromUnixNano(created)
	if first != 0 {
		r.FirstAt = fromUnixNano(first)
	}
	if ended != 0 {
		r.EndedAt = fromUnixNano(ended)
	}
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		r.Params = map[string]any{}
	}
	return &r, nil
}

// newRunID returns a new run (chat, agent run) id: 24 hex digits, the
// first 12 the time in milliseconds and the rest random, as UUIDv7 and
// ULID do. New rows then go at the end of the id's index (and of the
// events' (run_id, seq) key) instead of anywhere in it: recording a run
// costs ~30-40 % less once the history has grown, and it stays so as it
// grows. Access to a run is checked, never left to its id being unguessed.
func newRunID() string {
	b := make([]byte, 12)
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i], ms = byte(ms), ms>>8
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b)
}

// The statements of the writes every run makes (see hotWrites).
const (
	sqlInsertRun = `INSERT INTO runs (id, user_id, username, plugin_id, provider, tool,
		credential_id, params, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlCountRunEvent  = `SELECT messages FROM runs WHERE id = ?`
	sqlInsertRunEvent = `INSERT INTO run_events (run_id, seq, type, payload, blob) VALUES (?, ?, ?, ?, ?)`
	sqlRunMessages    = `UPDATE runs SET messages = ?, bytes = bytes + ?,
		first_at = CASE first_at WHEN 0 THEN ? ELSE first_at END WHERE id = ?`
	sqlEndRun    = `UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ? AND status = ?`
	sqlSelectRun = `SELECT ` + runColumns + ` FROM runs WHERE id = ?`
	// sqlInsertEndedRun records a run that ended before it was recorded.
	sqlInsertEndedRun = `INSERT INTO runs (` + runColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// NewRun makes r a new running run without recording it: it fills r.ID,
// Status and CreatedAt. CreateRun records it later, as running, or SaveRun
// once it has ended.
func (db *DB) NewRun(r *Run) {
	r.ID, r.Status, r.CreatedAt = newRunID(), RunRunning, db.Now().UTC()
}

// CreateRun records a new running run; it fills r.ID, Status and CreatedAt
// unless NewRun did.
// The files uploaded with it, if any, are stored in the same transaction
// (each gets its run, token and expiry).
func (db *DB) CreateRun(ctx context.Context, r *Run, files ...*RunFile) error {
	if r.PluginID == "" || r.Provider == "" || r.Tool == "" {
		return plugboard.Errorf(plugboard.EINVALID, "a run needs a plugin, a provider and a tool")
	}
	params, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("run parameters: %w", err)
	}
	if r.ID == "" {
		db.NewRun(r)
	}
	prepareRunFiles(r, files)
	if len(files) == 0 { // one statement: its own transaction
		_, err := db.writeStmts.lookup(sqlInsertRun).ExecContext(ctx,
			r.ID, r.UserID, r.Username, r.PluginID, r.Provider, r.Tool, r.CredentialID, string(params), r.Status, unixNano(r.CreatedAt))
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := db.txExec(ctx, tx, sqlInsertRun,
			r.ID, r.UserID, r.Username, r.PluginID, r.Provider, r.Tool, r.CredentialID, string(params), r.Status, unixNano(r.CreatedAt))
		for _, f := range files {
			if err == nil {
				err = createRunFile(ctx, tx, f)
			}
		}
		return err
	})
}

// AppendRunEvent stores the run's next message (its Seq is set) and counts
// it; the first one also records the time to first message.
func (db *DB) AppendRunEvent(ctx context.Context, ev *RunEvent) error {
	return db.AppendRunEvents(ctx, []*RunEvent{ev})
}

// AppendRunEvents stores the run's next messages, in order, in one
// transaction (each one's Seq is set), as AppendRunEvent would one by one.
// They all belong to the run of the first.
func (db *DB) AppendRunEvents(ctx context.Context, evs []*RunEvent) error {
	if len(evs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.appendRunEvents(ctx, tx, evs) })
}

func (db *DB) appendRunEvents(ctx context.Context, tx *sql.Tx, evs []*RunEvent) error {
	id := evs[0].RunID
	var n int
	if err := db.txQueryRow(ctx, tx, sqlCountRunEvent, id).Scan(&n); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
		}
		return err
	}
	var size, first int64
	for _, ev := range evs {
		if len(ev.Payload) == 0 {
			ev.Payload = json.RawMessage("{}")
		}
		n++
		ev.RunID, ev.Seq = id, n
		if _, err := db.txExec(ctx, tx, sqlInsertRunEvent,
			ev.RunID, ev.Seq, ev.Type, string(ev.Payload), ev.Blob); err != nil {
			return err
		}
		size += int64(len(ev.Payload) + len(ev.Blob))
		if first == 0 && ev.Type != RunEventCallBack { // a call back is not the tool's output
			at := ev.At
			if at.IsZero() {
				at = db.Now()
			}
			first = unixNano(at)
		}
	}
	_, err := db.txExec(ctx, tx, sqlRunMessages, n, size, first, id)
	return err
}

// FinishRun ends a running run with status and, for failures, the reason.
// A run that already ended keeps its first ending.
func (db *DB) FinishRun(ctx context.Context, id, status, reason string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ? AND status = ?`,
		status, reason, unixNano(db.Now()), id, RunRunning)
	return err
}

// EndRun stores the run's last messages (as AppendRunEvents, none may be
// given) and ends it (as FinishRun) in one transaction, and returns the run
// as it then is.
func (db *DB) EndRun(ctx context.Context, id, status, reason string, evs []*RunEvent) (*Run, error) {
	var r *Run
	err := db.group.do(func(tx *sql.Tx) error {
		for _, ev := range evs {
			ev.RunID = id
		}
		if len(evs) > 0 {
			if err := db.appendRunEvents(ctx, tx, evs); err != nil {
				return err
			}
		}
		if _, err := db.txExec(ctx, tx, sqlEndRun, status, reason, unixNano(db.Now()), id, RunRunning); err != nil {
			return err
		}
		var err error
		r, err = scanRun(db.txQueryRow(ctx, tx, sqlSelectRun, id))
		if errors.Is(err, sql.ErrNoRows) {
			return plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
		}
		return err
	})
	return r, err
}

// SaveRun records a run that ended before it was recorded (made by NewRun;
// Status, Error and EndedAt set, EndedAt now if zero) with its events, in
// one transaction, maybe shared with other runs' writes: the run's message
// count, bytes and first message time come from evs, each of which gets its
// run and Seq.
func (db *DB) SaveRun(ctx context.Context, r *Run, evs []*RunEvent) error {
	fn, err := db.saveRun(ctx, r, evs)
	if err != nil {
		return err
	}
	return db.group.do(fn)
}

// SaveRunLater is SaveRun without waiting for the write: r and evs are
// filled in as SaveRun fills them, and the run is committed within
// milliseconds, sharing a transaction with other writes; done (nil: none)
// is told how that went. A run that cannot be saved (not ended) is an
// error at once. Close commits what was submitted; WaitWrites waits for it.
func (db *DB) SaveRunLater(ctx context.Context, r *Run, evs []*RunEvent, done func(error)) error {
	fn, err := db.saveRun(context.WithoutCancel(ctx), r, evs) // written after the caller has gone on
	if err != nil {
		return err
	}
	return db.group.later(fn, done)
}

// WaitWrites returns once the writes submitted before it (SaveRunLater's)
// are committed.
func (db *DB) WaitWrites() error {
	return db.group.do(func(*sql.Tx) error { return nil })
}

// saveRun fills in r and evs for SaveRun and returns the write to make.
func (db *DB) saveRun(ctx context.Context, r *Run, evs []*RunEvent) (func(*sql.Tx) error, error) {
	if r.ID == "" || r.Running() {
		return nil, plugboard.Errorf(plugboard.EINVALID, "SaveRun needs a run made by NewRun that has ended")
	}
	params, err := json.Marshal(r.Params)
	if err != nil {
		return nil, fmt.Errorf("run parameters: %w", err)
	}
	if r.EndedAt.IsZero() {
		r.EndedAt = db.Now().UTC()
	}
	r.Messages, r.Bytes, r.FirstAt = len(evs), 0, time.Time{}
	for i, ev := range evs {
		if len(ev.Payload) == 0 {
			ev.Payload = json.RawMessage("{}")
		}
		ev.RunID, ev.Seq = r.ID, i+1
		r.Bytes += int64(len(ev.Payload) + len(ev.Blob))
		if r.FirstAt.IsZero() && ev.Type != RunEventCallBack { // a call back is not the tool's output
			r.FirstAt = ev.At.UTC()
			if ev.At.IsZero() {
				r.FirstAt = r.EndedAt
			}
		}
	}
	var first int64
	if !r.FirstAt.IsZero() {
		first = unixNano(r.FirstAt)
	}
	return func(tx *sql.Tx) error {
		if _, err := db.txExec(ctx, tx, sqlInsertEndedRun, r.ID, r.UserID, r.Username, r.PluginID, r.Provider, r.Tool,
			r.CredentialID, string(params), r.Status, r.Error, unixNano(r.CreatedAt), first, unixNano(r.EndedAt),
			r.Messages, r.Bytes); err != nil {
			return err
		}
		for _, ev := range evs {
			if _, err := db.txExec(ctx, tx, sqlInsertRunEvent, ev.RunID, ev.Seq, ev.Type, string(ev.Payload), ev.Blob); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// FindRun returns the run with the id.
func (db *DB) FindRun(ctx context.Context, id string) (*Run, error) {
	r, err := scanRun(db.read.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
	}
	return r, err
}

// FindRuns returns the runs the filter selects, newest first, and how many
// it selects in all (for paging).
func (db *DB) FindRuns(ctx context.Context, f RunFilter) ([]Run, int, error) {
	where, args := runWhere(f)
	return findPage(ctx, db, "runs", runColumns, where, args, "created_at DESC, id", f.Limit, f.Offset, scanRun)
}

// runWhere is the WHERE clause of a run filter, with its arguments.
func runWhere(f RunFilter) (string, []any) {
	var w filter
	if f.UserID != 0 {
		w.and(`user_id = ?`, f.UserID)
	}
	if f.Tool != "" {
		w.and(`plugin_id || ':' || provider || ':' || tool = ?`, f.Tool)
	}
	if f.Status != "" {
		w.and(`status = ?`, f.Status)
	}
	w.search(f.Query, []string{"tool", "plugin_id", "provider", "username", "params", "error"})
	return w.where()
}

// RunFacets returns the tools and the users that have runs (of userID
// alone, unless it is 0), for the history's filters.
func (db *DB) RunFacets(ctx context.Context, userID int64) ([]RunTool, []RunUser, error) {
	where, args := runWhere(RunFilter{UserID: userID})
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT plugin_id, provider, tool FROM runs`+where+` ORDER BY tool, plugin_id, provider`, args...)
	if err != nil {
		return nil, nil, err
	}
	var tools []RunTool
	for rows.Next() {
		var t RunTool
		if err := rows.Scan(&t.PluginID, &t.Provider, &t.Tool); err != nil {
			rows.Close()
			return nil, nil, err
		}
		tools = append(tools, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = db.read.QueryContext(ctx, `SELECT user_id, max(username) FROM runs`+where+` GROUP BY user_id ORDER BY 2`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var users []RunUser
	for rows.Next() {
		var u RunUser
		if err := rows.Scan(&u.ID, &u.Username); err != nil {
			return nil, nil, err
		}
		users = append(users, u)
	}
	return tools, users, rows.Err()
}

// RunEvents returns the run's messages after seq, in order, without blobs.
func (db *DB) RunEvents(ctx context.Context, id string, after int) ([]RunEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT seq, type, payload FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq`, id, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunEvent
	for rows.Next() {
		ev := RunEvent{RunID: id}
		var payload string
		if err := rows.Scan(&ev.Seq, &ev.Type, &payload); err != nil {
			return nil, err
		}
		ev.Payload = json.RawMessage(payload)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// RunEvent returns one message of the run with its blob.
func (db *DB) RunEvent(ctx context.Context, id string, seq int) (*RunEvent, error) {
	ev := RunEvent{RunID: id, Seq: seq}
	var payload string
	err := db.read.QueryRowContext(ctx, `SELECT type, payload, blob FROM run_events WHERE run_id = ? AND seq = ?`, id, seq).
		Scan(&ev.Type, &payload, &ev.Blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "Run %q has no message %d.", id, seq)
	}
	ev.Payload = json.RawMessage(payload)
	return &ev, err
}

// DeleteRun removes a run and its messages.
func (db *DB) DeleteRun(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
	}
	return nil
}

// InterruptRuns marks runs still running (left by a previous process) as
// failed; it returns how many.
func (db *DB) InterruptRuns(ctx context.Context) (int64, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE status = ?`,
		RunFailed, "The admin app stopped while the run was going.", unixNano(db.Now()), RunRunning)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
