package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/plugboard/plugboard"
)

// CreateCredential stores a new credential, its secrets sealed, and records
// it in the audit log. A provider's first credential becomes its default.
func (cs *Credentials) CreateCredential(ctx context.Context, actor string, in CredentialInput) (*Credential, error) {
	var id int64
	err := cs.db.credentialTx(ctx, func(tx *sql.Tx) error {
		count, err := countCredentials(ctx, tx, in.PluginID, in.Provider)
		if err != nil {
			return err
		}
		if count >= MaxCredentialsPerProvider {
			return plugboard.Errorf(plugboard.EINVALID, "%s/%s already has %d credentials, the most allowed; delete one first.", in.PluginID, in.Provider, count)
		}
		if in.Name == "" {
			in.Name = fmt.Sprintf("API KEY %d", count+1)
		}
		if err := checkCredentialName(ctx, tx, in, 0); err != nil {
			return err
		}
		if id, err = cs.insertCredential(ctx, tx, actor, in, count == 0); err != nil {
			return err
		}
		detail := "fields: " + strings.Join(sortedKeys(fieldSet(in)), ", ")
		return cs.db.audit(ctx, tx, actor, AuditCredentialCreate, target(in.PluginID, in.Provider, in.Name), detail)
	})
	if err != nil {
		return nil, err
	}
	return cs.FindCredentialByID(ctx, id)
}

// insertCredential inserts the row, then seals its secrets with its id.
func (cs *Credentials) insertCredential(ctx context.Context, tx *sql.Tx, actor string, in CredentialInput, isDefault bool) (int64, error) {
	plain, err := jsonText(in.Values)
	if err != nil {
		return 0, err
	}
	now := unixNano(cs.db.Now())
	tested := testedAt(in, now)
	res, err := tx.ExecContext(ctx, `INSERT INTO credentials (plugin_id, provider, name, is_default, plain_values, created_by, created_at, updated_at, tested_at, test_ok)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.PluginID, in.Provider, in.Name, isDefault, plain, actor, now, now, tested, in.Accepted)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return id, cs.storeSecrets(ctx, tx, id, in.Secrets)
}

// testedAt is the tested_at a write records: now when the plugin accepted
// the fields, else 0 (not tested: the fields changed since any test).
func testedAt(in CredentialInput, now int64) int64 {
	if in.Accepted {
		return now
	}
	return 0
}

// storeSecrets seals each secret bound to (id, field) and stores them.
func (cs *Credentials) storeSecrets(ctx context.Context, tx *sql.Tx, id int64, secrets map[string]string) error {
	text, err := sealFields(cs.keys, secrets, func(f string) string { return credentialAAD(id, f) })
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE credentials SET sealed_values = ? WHERE id = ?`, text, id)
	return err
}

// UpdateCredential renames a credential and replaces its fields (callers
// put back secrets the user left masked; see secret.IsMask). The audit log
// records which fields changed, never their values.
func (cs *Credentials) UpdateCredential(ctx context.Context, actor string, id int64, in CredentialInput) (*Credential, error) {
	err := cs.db.credentialTx(ctx, func(tx *sql.Tx) error {
		old, err := cs.findRow(ctx, tx, id)
		if err != nil {
			return err
		}
		in.PluginID, in.Provider = old.PluginID, old.Provider
		if in.Name == "" {
			in.Name = old.Name
		}
		if err := checkCredentialName(ctx, tx, in, id); err != nil {
			return err
		}
		detail, err := cs.changes(old, in)
		if err != nil {
			return err
		}
		if err := cs.updateRow(ctx, tx, id, in); err != nil {
			return err
		}
		return cs.db.audit(ctx, tx, actor, AuditCredentialUpdate, target(in.PluginID, in.Provider, in.Name), detail)
	})
	if err != nil {
		return nil, err
	}
	return cs.FindCredentialByID(ctx, id)
}

func (cs *Credentials) updateRow(ctx context.Context, tx *sql.Tx, id int64, in CredentialInput) error {
	plain, err := jsonText(in.Values)
	if err != nil {
		return err
	}
	now := unixNano(cs.db.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE credentials SET name = ?, plain_values = ?, updated_at = ?,
		tested_at = ?, test_ok = ?, test_message = '' WHERE id = ?`,
		in.Name, plain, now, testedAt(in, now), in.Accepted, id); err != nil {
		return err
	}
	return cs.storeSecrets(ctx, tx, id, in.Secrets)
}

// changes words what an update changes: a rename and the changed fields'
// names. A stored secret that cannot be decrypted counts as changed.
func (cs *Credentials) changes(old *credentialRow, in CredentialInput) (string, error) {
	var parts []string
	if old.Name != in.Name {
		parts = append(parts, fmt.Sprintf("renamed from %q", old.Name))
	}
	oldSecrets, _ := cs.openSecrets(old)
	var changed []string
	for _, f := range sortedKeys(fieldSet(in)) {
		if _, ok := in.Secrets[f]; ok && oldSecrets[f] != in.Secrets[f] {
			changed = append(changed, f)
		} else if v, ok := in.Values[f]; ok && fmt.Sprint(old.Values[f]) != fmt.Sprint(v) {
			changed = append(changed, f)
		}
	}
	if len(changed) > 0 {
		parts = append(parts, "changed: "+strings.Join(changed, ", "))
	}
	if len(parts) == 0 {
		return "no changes", nil
	}
	return strings.Join(parts, "; "), nil
}

// DeleteCredential removes a credential. When it was the default, the
// provider's oldest remaining credential becomes the default.
func (cs *Credentials) DeleteCredential(ctx context.Context, actor string, id int64) error {
	return cs.db.credentialTx(ctx, func(tx *sql.Tx) error {
		old, err := cs.findRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM credentials WHERE id = ?`, id); err != nil {
			return err
		}
		if old.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE credentials SET is_default = 1 WHERE id =
				(SELECT id FROM credentials WHERE plugin_id = ? AND provider = ? ORDER BY created_at, id LIMIT 1)`,
				old.PluginID, old.Provider); err != nil {
				return err
			}
		}
		return cs.db.audit(ctx, tx, actor, AuditCredentialDelete, old.Target(), "")
	})
}

// SetDefaultCredential makes a credential its provider's default.
func (cs *Credentials) SetDefaultCredential(ctx context.Context, actor string, id int64) error {
	return cs.db.credentialTx(ctx, func(tx *sql.Tx) error {
		c, err := cs.findRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET is_default = (id = ?) WHERE plugin_id = ? AND provider = ?`,
			id, c.PluginID, c.Provider); err != nil {
			return err
		}
		return cs.db.audit(ctx, tx, actor, AuditCredentialDefault, c.Target(), "")
	})
}

// RecordCredentialTest stores a test's result (message must not contain
// the secret) and logs it.
func (cs *Credentials) RecordCredentialTest(ctx context.Context, actor string, id int64, ok bool, message string) error {
	return cs.db.credentialTx(ctx, func(tx *sql.Tx) error {
		c, err := cs.findRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET tested_at = ?, test_ok = ?, test_message = ? WHERE id = ?`,
			unixNano(cs.db.Now()), ok, message, id); err != nil {
			return err
		}
		detail := "passed"
		if !ok {
			detail = "failed: " + message
		}
		return cs.db.audit(ctx, tx, actor, AuditCredentialTest, c.Target(), detail)
	})
}

// DeleteCredentialsForPlugin removes every credential of a plugin (all its
// tool providers', and its model providers' credentials and customizable
// models, with the default models that named them), for an uninstall that
// asked for it, and returns how many.
func (db *DB) DeleteCredentialsForPlugin(ctx context.Context, actor, pluginID string) (int, error) {
	var n, m int64
	err := db.credentialTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM credentials WHERE plugin_id = ?`, pluginID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n > 0 {
			if err := db.audit(ctx, tx, actor, AuditCredentialDelete, pluginID, fmt.Sprintf("all %d credentials of the plugin", n)); err != nil {
				return err
			}
		}
		if res, err = tx.ExecContext(ctx, `DELETE FROM model_credentials WHERE plugin_id = ?`, pluginID); err != nil {
			return err
		}
		if m, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM default_models WHERE plugin_id = ?`, pluginID); err != nil {
			return err
		}
		if m == 0 {
			return nil
		}
		return db.audit(ctx, tx, actor, AuditModelCredentialDelete, pluginID, fmt.Sprintf("all %d model credentials of the plugin", m))
	})
	return int(n + m), err
}

func countCredentials(ctx context.Context, tx *sql.Tx, pluginID, provider string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials WHERE plugin_id = ? AND provider = ?`, pluginID, provider).Scan(&n)
	return n, err
}

// checkCredentialName checks the name's form and that no other credential
// of the provider (other than self) has it.
func checkCredentialName(ctx context.Context, tx *sql.Tx, in CredentialInput, self int64) error {
	if err := validateCredentialName(in.Name); err != nil {
		return err
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials WHERE plugin_id = ? AND provider = ? AND name = ? AND id != ?`,
		in.PluginID, in.Provider, in.Name, self).Scan(&n)
	if err == nil && n > 0 {
		return &FieldError{"name", fmt.Sprintf("There is already a credential named %q for this provider.", in.Name)}
	}
	return err
}

// fieldSet is the set of every field name of the input.
func fieldSet(in CredentialInput) map[string]bool {
	set := map[string]bool{}
	for k := range maps.Keys(in.Values) {
		set[k] = true
	}
	for k := range maps.Keys(in.Secrets) {
		set[k] = true
	}
	return set
}

func target(pluginID, provider, name string) string { return pluginID + "/" + provider + ": " + name }

func jsonText(v any) (string, error) {
	if v == nil {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// credentialTx runs a write of credentials in a transaction and, once it
// is committed, lets every cached list of them go (FindCredentials).
func (db *DB) credentialTx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := db.inTx(ctx, fn)
	db.creds.changed()
	return err
}
