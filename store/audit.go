package store

import (
	"context"
	"database/sql"
	"time"
)

// Audit actions. Others may record their own "<thing>.<verb>" actions too.
const (
	AuditCredentialCreate  = "credential.create"
	AuditCredentialUpdate  = "credential.update"
	AuditCredentialDelete  = "credential.delete"
	AuditCredentialDefault = "credential.default"
	AuditCredentialTest    = "credential.test"
	AuditPluginInstall     = "plugin.install"
	AuditPluginUpgrade     = "plugin.upgrade"
	AuditPluginUninstall   = "plugin.uninstall"
	AuditExtensionCreate   = "extension.create"
	AuditExtensionUpdate   = "extension.update"
	AuditExtensionDelete   = "extension.delete"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // username, or "system"
	Action string // e.g. AuditCredentialCreate
	Target string // what was acted on, e.g. "plugboard/gotools/gotools: prod"
	Detail string // what changed, in words; never a secret
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Action  string // "" for all
	Page    int    // 1-based
	PerPage int
}

// DefaultAuditPerPage is the page size when AuditFilter.PerPage is 0.
const DefaultAuditPerPage = 50

// Audit records that actor did action to target. detail says what changed
// and must never contain a secret.
func (db *DB) Audit(ctx context.Context, actor, action, target, detail string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.audit(ctx, tx, actor, action, target, detail) })
}

// audit records an entry inside tx, so it commits with the change it logs.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, actor, action, target, detail string) error {
	if actor == "" {
		actor = "system"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`,
		unixNano(db.Now()), actor, action, target, detail)
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
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE ? = '' OR action = ?`, f.Action, f.Action).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, actor, action, target, detail FROM audit_log
		WHERE ? = '' OR action = ? ORDER BY id DESC LIMIT ? OFFSET ?`, f.Action, f.Action, per, (page-1)*per)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var list []*AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, 0, err
		}
		e.At = fromUnixNano(at)
		list = append(list, &e)
	}
	return list, total, rows.Err()
}

// AuditActions lists the actions that occur in the log, for a filter.
func (db *DB) AuditActions(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY action`)
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
