package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store/secret"
)

// ModelCredential is a model provider's credential (ModelType and Model
// empty) or a customizable model with its credentials, as shown: secret
// fields only masked.
type ModelCredential struct {
	ID        int64
	PluginID  string // author/name
	Provider  string
	ModelType string // "" for the provider's credential
	Model     string // "" for the provider's credential
	// Values holds the non-secret fields (string, or bool for switches).
	Values map[string]any
	// Masked holds the secret fields, masked with secret.Mask.
	Masked    map[string]string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Problem says why a stored secret cannot be decrypted ("" when fine).
	Problem string
}

// Customizable reports whether the row is a customizable model rather than
// a provider's credential.
func (c *ModelCredential) Customizable() bool { return c.Model != "" }

// Target names the row in the audit log.
func (c *ModelCredential) Target() string {
	return modelTarget(c.PluginID, c.Provider, c.ModelType, c.Model)
}

func modelTarget(pluginID, provider, modelType, model string) string {
	t := pluginID + "/" + provider
	if model != "" {
		t += ": " + modelType + " " + model
	}
	return t
}

// ModelCredentialInput is what SaveModelCredential stores: a provider's
// credential when ModelType and Model are empty, else a customizable model.
type ModelCredentialInput struct {
	PluginID  string
	Provider  string
	ModelType string
	Model     string
	// Values are the non-secret fields, Secrets the secret ones in plain
	// text (sealed before they reach the database).
	Values  map[string]any
	Secrets map[string]string
}

// ModelCredentials is the store of model credentials: the database and the
// keyring that seals their secrets.
type ModelCredentials struct {
	db   *DB
	keys *secret.Keyring
}

// ModelCredentials returns the model credential store using keys for
// secrets.
func (db *DB) ModelCredentials(keys *secret.Keyring) *ModelCredentials {
	return &ModelCredentials{db: db, keys: keys}
}

const modelCredentialColumns = `id, plugin_id, provider, model_type, model, plain_values, sealed_values,
	created_by, created_at, updated_at`

type modelCredentialRow struct {
	ModelCredential
	sealed map[string]string
}

func scanModelCredential(s scanner) (*modelCredentialRow, error) {
	var r modelCredentialRow
	var plain, sealed string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.PluginID, &r.Provider, &r.ModelType, &r.Model, &plain, &sealed,
		&r.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	if err := json.Unmarshal([]byte(plain), &r.Values); err != nil {
		r.Problem = fmt.Sprintf("model credential %d: its stored values are damaged (%v)", r.ID, err)
	}
	if err := json.Unmarshal([]byte(sealed), &r.sealed); err != nil {
		r.Problem = fmt.Sprintf("model credential %d: its stored secrets are damaged (%v)", r.ID, err)
	}
	return &r, nil
}

// modelCredentialAAD binds a sealed field to its row and field name.
func modelCredentialAAD(id int64) func(field string) string {
	return func(field string) string { return fmt.Sprintf("model_credential:%d:%s", id, field) }
}

func (ms *ModelCredentials) openSecrets(r *modelCredentialRow) (map[string]string, error) {
	out, field, err := openFields(ms.keys, r.sealed, modelCredentialAAD(r.ID))
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINTERNAL, "model credential %s (%d): the stored secret %q cannot be decrypted: %v", r.Target(), r.ID, field, err)
	}
	return out, nil
}

func (ms *ModelCredentials) shown(r *modelCredentialRow) *ModelCredential {
	c := r.ModelCredential
	plain, err := ms.openSecrets(r)
	c.Masked, c.Problem = maskFields(r.sealed, plain, err)
	return &c
}

// FindModelCredentials lists the model credentials of a plugin ("" for
// every plugin), by plugin and provider, the provider's credential first,
// then customizable models by type and name; secrets masked.
func (ms *ModelCredentials) FindModelCredentials(ctx context.Context, pluginID string) ([]*ModelCredential, error) {
	rows, err := ms.db.read.QueryContext(ctx, `SELECT `+modelCredentialColumns+` FROM model_credentials
		WHERE (? = '' OR plugin_id = ?) ORDER BY plugin_id, provider, model_type, model`, pluginID, pluginID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*ModelCredential
	for rows.Next() {
		r, err := scanModelCredential(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, ms.shown(r))
	}
	return list, rows.Err()
}

func (ms *ModelCredentials) findRow(ctx context.Context, q queryer, pluginID, provider, modelType, model string) (*modelCredentialRow, error) {
	r, err := scanModelCredential(q.QueryRowContext(ctx, `SELECT `+modelCredentialColumns+` FROM model_credentials
		WHERE plugin_id = ? AND provider = ? AND model_type = ? AND model = ?`, pluginID, provider, modelType, model))
	if errors.Is(err, sql.ErrNoRows) {
		if model == "" {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s/%s has no credential yet.", pluginID, provider)
		}
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s/%s has no customizable %s model %q.", pluginID, provider, modelType, model)
	}
	return r, err
}

// FindModelCredential returns the provider's credential (modelType and
// model "") or a customizable model, secrets masked; not_found when there
// is none.
func (ms *ModelCredentials) FindModelCredential(ctx context.Context, pluginID, provider, modelType, model string) (*ModelCredential, error) {
	r, err := ms.findRow(ctx, ms.db.read, pluginID, provider, modelType, model)
	if err != nil {
		return nil, err
	}
	return ms.shown(r), nil
}

// OpenModelCredential returns the fields of the provider's credential or
// of a customizable model with secrets in plain text, and the plain secret
// values alone (to redact them from what a model sends back). Keep both in
// memory only.
func (ms *ModelCredentials) OpenModelCredential(ctx context.Context, pluginID, provider, modelType, model string) (values map[string]any, secrets []string, err error) {
	r, err := ms.findRow(ctx, ms.db.read, pluginID, provider, modelType, model)
	if err != nil {
		return nil, nil, err
	}
	if r.Problem != "" {
		return nil, nil, plugboard.Errorf(plugboard.EINTERNAL, "%s", r.Problem)
	}
	plain, err := ms.openSecrets(r)
	if err != nil {
		return nil, nil, err
	}
	values = make(map[string]any, len(r.Values)+len(plain))
	for k, v := range r.Values {
		values[k] = v
	}
	for _, k := range sortedKeys(plain) {
		values[k] = plain[k]
		secrets = append(secrets, plain[k])
	}
	return values, secrets, nil
}

// SaveModelCredential stores the provider's credential or a customizable
// model, replacing the fields of one already saved (callers put back the
// secrets the user left masked), and records it in the audit log with the
// fields' names, never their values.
func (ms *ModelCredentials) SaveModelCredential(ctx context.Context, actor string, in ModelCredentialInput) (*ModelCredential, error) {
	if (in.Model == "") != (in.ModelType == "") {
		return nil, plugboard.Errorf(plugboard.EINVALID, "a customizable model needs both its type and its name")
	}
	if strings.TrimSpace(in.Model) != in.Model || len(in.Model) > 255 {
		return nil, &FieldError{"model", "The model name must be at most 255 characters, without spaces around it."}
	}
	err := ms.db.inTx(ctx, func(tx *sql.Tx) error {
		plain, err := jsonText(in.Values)
		if err != nil {
			return err
		}
		now := unixNano(ms.db.Now())
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO model_credentials
			(plugin_id, provider, model_type, model, plain_values, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (plugin_id, provider, model_type, model) DO UPDATE SET
				plain_values = excluded.plain_values, updated_at = excluded.updated_at
			RETURNING id`, in.PluginID, in.Provider, in.ModelType, in.Model, plain, actor, now, now).Scan(&id)
		if err != nil {
			return err
		}
		sealed, err := sealFields(ms.keys, in.Secrets, modelCredentialAAD(id))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_credentials SET sealed_values = ? WHERE id = ?`, sealed, id); err != nil {
			return err
		}
		fields := map[string]bool{}
		for k := range in.Values {
			fields[k] = true
		}
		for k := range in.Secrets {
			fields[k] = true
		}
		detail := "fields: " + strings.Join(sortedKeys(fields), ", ")
		return ms.db.audit(ctx, tx, actor, AuditModelCredentialSave, modelTarget(in.PluginID, in.Provider, in.ModelType, in.Model), detail)
	})
	if err != nil {
		return nil, err
	}
	return ms.FindModelCredential(ctx, in.PluginID, in.Provider, in.ModelType, in.Model)
}

// DeleteModelCredential removes the provider's credential or a
// customizable model; a default model that was the deleted customizable
// model is cleared with it.
func (ms *ModelCredentials) DeleteModelCredential(ctx context.Context, actor, pluginID, provider, modelType, model string) error {
	return ms.db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := ms.findRow(ctx, tx, pluginID, provider, modelType, model)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM model_credentials WHERE id = ?`, r.ID); err != nil {
			return err
		}
		if model != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM default_models
				WHERE model_type = ? AND plugin_id = ? AND provider = ? AND model = ?`, modelType, pluginID, provider, model); err != nil {
				return err
			}
		}
		return ms.db.audit(ctx, tx, actor, AuditModelCredentialDelete, r.Target(), "")
	})
}

// DefaultModel is the workspace's default model of one type.
type DefaultModel struct {
	ModelType string
	PluginID  string
	Provider  string
	Model     string
	UpdatedBy string
	UpdatedAt time.Time
}

// DefaultModels returns the workspace's default models by model type.
func (db *DB) DefaultModels(ctx context.Context) (map[string]DefaultModel, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT model_type, plugin_id, provider, model, updated_by, updated_at FROM default_models`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]DefaultModel{}
	for rows.Next() {
		var d DefaultModel
		var at int64
		if err := rows.Scan(&d.ModelType, &d.PluginID, &d.Provider, &d.Model, &d.UpdatedBy, &at); err != nil {
			return nil, err
		}
		d.UpdatedAt = fromUnixNano(at)
		out[d.ModelType] = d
	}
	return out, rows.Err()
}

// SetDefaultModel makes d the default model of its type; a d with no
// Model clears the type's default. Either is audited.
func (db *DB) SetDefaultModel(ctx context.Context, actor string, d DefaultModel) error {
	if d.ModelType == "" {
		return plugboard.Errorf(plugboard.EINVALID, "a default model needs a model type")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if d.Model == "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM default_models WHERE model_type = ?`, d.ModelType); err != nil {
				return err
			}
			return db.audit(ctx, tx, actor, AuditModelDefault, d.ModelType, "cleared")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO default_models (model_type, plugin_id, provider, model, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model_type) DO UPDATE SET plugin_id = excluded.plugin_id,
			provider = excluded.provider, model = excluded.model, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			d.ModelType, d.PluginID, d.Provider, d.Model, actor, unixNano(db.Now())); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditModelDefault, d.ModelType, d.PluginID+"/"+d.Provider+" "+d.Model)
	})
}
