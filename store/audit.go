package store

import (
	"context"
	"database/sql"
	"math"
	"time"
)

// Audit actions. Others may record their own "<thing>.<verb>" actions too.
const (
	AuditCredentialCreate      = "credential.create"
	AuditCredentialUpdate      = "credential.update"
	AuditCredentialDelete      = "credential.delete"
	AuditCredentialDefault     = "credential.default"
	AuditCredentialTest        = "credential.test"
	AuditModelCredentialSave   = "model_credential.save"
	AuditModelCredentialDelete = "model_credential.delete"
	AuditModelDefault          = "model.default"
	AuditPluginInstall         = "plugin.install"
	AuditPluginUpgrade         = "plugin.upgrade"
	AuditPluginUninstall       = "plugin.uninstall"
	AuditMCPServerAdd          = "mcp_server.add"
	AuditExtensionCreate       = "extension.create"
	AuditExtensionUpdate       = "extension.update"
	AuditExtensionDelete       = "extension.delete"
	AuditSetup                 = "auth.setup"
	AuditLogin                 = "auth.login"
	AuditLogout                = "auth.logout"
	AuditPasswordChange        = "auth.password"
	AuditUserCreate            = "user.create"
	AuditUserRole              = "user.role"
	AuditUserDelete            = "user.delete"
	AuditKeysRotate            = "keys.rotate"
)

// Audit outcomes: how an audited action ended.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure" // tried and failed (a wrong password, a failed install)
	OutcomeRefused = "refused" // not allowed (a policy, a throttle)
	OutcomeStarted = "started" // running on; its end is recorded in an entry of its own
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // username, or "system"
	Action string // e.g. AuditCredentialCreate
	Target string // what was acted on, e.g. "plugboard/gotools/gotools: prod"
	Detail string // what changed, in words; never a secret
	// Address is the client's address the action came from ("" for the
	// system or a command line).
	Address string
	Outcome string // OutcomeSuccess, OutcomeFailure, …
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Action  string    // "" for all
	Actor   string    // "" for all
	Since   time.Time // zero: from the start
	Until   time.Time // zero: up to now; exclusive
	Page    int       // 1-based
	PerPage int
}

// originKey is the context key of the client address audit entries record.
type originKey struct{}

// WithOrigin returns ctx carrying the client's address, which every audit
// entry written under it records (the web layer sets it per request).
func WithOrigin(ctx context.Context, address string) context.Context {
	return context.WithValue(ctx, originKey{}, address)
}

// Origin is the client address WithOrigin put in ctx, or "".
func Origin(ctx context.Context) string {
	a, _ := ctx.Value(originKey{}).(string)
	return a
}

// DefaultAuditPerPage is the page size when AuditFilter.PerPage is 0.
const DefaultAuditPerPage = 50

// Audit records that actor did action to target, successfully. detail says
// what changed and must never contain a secret.
func (db *DB) Audit(ctx context.Context, actor, action, target, detail string) error {
	return db.AuditOutcome(ctx, actor, action, target, detail, OutcomeSuccess)
}

// AuditOutcome records an action that ended as outcome (OutcomeFailure for
// a failed sign-in, say).
func (db *DB) AuditOutcome(ctx context.Context, actor, action, target, detail, outcome string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.auditOutcome(ctx, tx, actor, action, target, detail, outcome) })
}

// audit records a successful action inside tx, so it commits with the
// change it logs.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, actor, action, target, detail string) error {
	return db.auditOutcome(ctx, tx, actor, action, target, detail, OutcomeSuccess)
}

func (db *DB) auditOutcome(ctx context.Context, tx *sql.Tx, actor, action, target, detail, outcome string) error {
	if actor == "" {
		actor = "system"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, detail, address, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, unixNano(db.Now()), actor, action, target, detail, Origin(ctx), outcome)
	return err
}

// FindAuditEntries returns a page of entries, newest first, and how many
// match the filter in all.
func (db *DB) FindAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, int, error) {
	per, page := f.PerPage, f.Page
	if per <= 0 {
		per = DefaultAuditPerPage
	}
	if page < 1 {
		page = 1
	}
	where, args := f.where()
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, actor, action, target, detail, address, outcome FROM audit_log
		WHERE `+where+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, per, (page-1)*per)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var list []*AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Address, &e.Outcome); err != nil {
			return nil, 0, err
		}
		e.At = fromUnixNano(at)
		list = append(list, &e)
	}
	return list, total, rows.Err()
}

// where is the filter as an SQL condition and its arguments.
func (f AuditFilter) where() (string, []any) {
	since, until := nanoBound(f.Since, math.MinInt64), nanoBound(f.Until, math.MaxInt64)
	return `(? = '' OR action = ?) AND (? = '' OR actor = ?) AND at >= ? AND at < ?`,
		[]any{f.Action, f.Action, f.Actor, f.Actor, since, until}
}

// nanoBound is t in Unix nanoseconds, clamped to what they can hold (years
// 1678 to 2262); a zero t is def.
func nanoBound(t time.Time, def int64) int64 {
	switch {
	case t.IsZero():
		return def
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return unixNano(t)
}

// AuditActions lists the actions that occur in the log, for a filter.
func (db *DB) AuditActions(ctx context.Context) ([]string, error) {
	return db.distinctAudit(ctx, "action")
}

// AuditActors lists who occurs in the log, for a filter.
func (db *DB) AuditActors(ctx context.Context) ([]string, error) {
	return db.distinctAudit(ctx, "actor")
}

// distinctAudit lists the distinct values of an audit_log column (a
// constant of this file, never user input).
func (db *DB) distinctAudit(ctx context.Context, column string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT `+column+` FROM audit_log ORDER BY `+column)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, rows.Err()
}
