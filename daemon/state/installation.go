package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// Installation is a plugin installed for a tenant.
type Installation struct {
	ID               string
	TenantID         string
	PluginID         string
	UniqueIdentifier string
	Source           string
	Meta             map[string]any
	RuntimeType      string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// FindInstallations returns every installation of every tenant, oldest first.
func (d *DB) FindInstallations(ctx context.Context) ([]*Installation, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, tenant_id, plugin_id, unique_identifier, source, meta,
		runtime_type, created_at, updated_at FROM installations ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Installation
	for rows.Next() {
		inst, err := scanInstallation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, rows.Err()
}

func scanInstallation(rows *sql.Rows) (*Installation, error) {
	var in Installation
	var meta string
	var created, updated int64
	if err := rows.Scan(&in.ID, &in.TenantID, &in.PluginID, &in.UniqueIdentifier, &in.Source, &meta,
		&in.RuntimeType, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(meta), &in.Meta); err != nil {
		return nil, err
	}
	in.CreatedAt, in.UpdatedAt = fromUnix(created), fromUnix(updated)
	return &in, nil
}

// CreateInstallation inserts in, filling its times; a second installation of
// the same plugin for the tenant is an plugboard.ECONFLICT.
func (d *DB) CreateInstallation(ctx context.Context, in *Installation) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.createInstallation(ctx, tx, in) })
}

func (d *DB) createInstallation(ctx context.Context, tx *sql.Tx, in *Installation) error {
	meta, err := json.Marshal(orEmpty(in.Meta))
	if err != nil {
		return err
	}
	now := d.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO installations (id, tenant_id, plugin_id, unique_identifier,
		source, meta, runtime_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, in.TenantID, in.PluginID, in.UniqueIdentifier, in.Source, string(meta), in.RuntimeType, now, now)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return plugboard.Errorf(plugboard.ECONFLICT, "plugin %s is already installed", in.PluginID)
	}
	if err != nil {
		return err
	}
	in.CreatedAt, in.UpdatedAt = fromUnix(now), fromUnix(now)
	return nil
}

// InstallationUpdate is a change of an installation's package.
type InstallationUpdate struct {
	UniqueIdentifier string
	Source           string
	Meta             map[string]any
}

// UpdateInstallation points the installation id at another package.
func (d *DB) UpdateInstallation(ctx context.Context, id string, upd InstallationUpdate) error {
	meta, err := json.Marshal(orEmpty(upd.Meta))
	if err != nil {
		return err
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE installations SET unique_identifier = ?, source = ?, meta = ?,
			updated_at = ? WHERE id = ?`, upd.UniqueIdentifier, upd.Source, string(meta), d.now(), id)
		return mustAffect(res, err, "installation "+id)
	})
}

// DeleteInstallation deletes an installation, the storage its plugin kept
// in its tenant (calls back of type storage) and, when no installation
// refers to its package any more, the package's row; it reports whether it
// deleted the package's row.
func (d *DB) DeleteInstallation(ctx context.Context, id string) (packageDeleted bool, err error) {
	err = d.tx(ctx, func(tx *sql.Tx) error {
		var uid string
		var ns Storage
		if err := tx.QueryRowContext(ctx, `SELECT unique_identifier, tenant_id, plugin_id FROM installations WHERE id = ?`, id).
			Scan(&uid, &ns.Tenant, &ns.PluginID); err != nil {
			return notFound(err, "installation "+id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM installations WHERE id = ?`, id); err != nil {
			return err
		}
		if err := clearStorage(ctx, tx, ns); err != nil {
			return err
		}
		packageDeleted, err = d.deletePackageIfUnused(ctx, tx, uid)
		return err
	})
	return packageDeleted, err
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// mustAffect turns an update of no row into plugboard.ENOTFOUND naming what.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound(err, what)
	}
	return nil
}

// notFound maps a missing row (or nil error) to plugboard.ENOTFOUND naming what.
func notFound(err error, what string) error {
	if err == nil || err == sql.ErrNoRows {
		return plugboard.Errorf(plugboard.ENOTFOUND, "%s not found", what)
	}
	return err
}
