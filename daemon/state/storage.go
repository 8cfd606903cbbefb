package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrStorageFull is returned by SetStorage when the value would take the
// namespace over its limit; nothing is written.
var ErrStorageFull = errors.New("allocated size is greater than max storage size")

// Storage addresses one plugin's key-value storage in one tenant.
type Storage struct {
	Tenant   string
	PluginID string // author/name
}

// GetStorage returns the value stored under key, and whether there is one.
func (d *DB) GetStorage(ctx context.Context, ns Storage, key string) ([]byte, bool, error) {
	var v []byte
	err := d.db.QueryRowContext(ctx, `SELECT value FROM plugin_storage WHERE tenant_id = ? AND plugin_id = ? AND key = ?`,
		ns.Tenant, ns.PluginID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// StorageExists reports whether key holds a value.
func (d *DB) StorageExists(ctx context.Context, ns Storage, key string) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM plugin_storage WHERE tenant_id = ? AND plugin_id = ? AND key = ?`,
		ns.Tenant, ns.PluginID, key).Scan(&n)
	return n > 0, err
}

// SetStorage stores value under key, replacing any earlier value, unless
// the namespace's usage would then exceed limit bytes (ErrStorageFull).
func (d *DB) SetStorage(ctx context.Context, ns Storage, key string, value []byte, limit int64) error {
	if value == nil {
		value = []byte{}
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		old, err := storedSize(ctx, tx, ns, key)
		if err != nil {
			return err
		}
		used, err := storageUsage(ctx, tx, ns)
		if err != nil {
			return err
		}
		if used-old+int64(len(value)) > limit {
			return ErrStorageFull
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO plugin_storage (tenant_id, plugin_id, key, value, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, plugin_id, key) DO UPDATE SET
			value = excluded.value, updated_at = excluded.updated_at`,
			ns.Tenant, ns.PluginID, key, value, d.now()); err != nil {
			return err
		}
		return addUsage(ctx, tx, ns, int64(len(value))-old)
	})
}

// DeleteStorage removes key, reporting how many values it removed (0 or 1).
func (d *DB) DeleteStorage(ctx context.Context, ns Storage, key string) (int64, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		old, err := storedSize(ctx, tx, ns, key)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM plugin_storage WHERE tenant_id = ? AND plugin_id = ? AND key = ?`,
			ns.Tenant, ns.PluginID, key)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return addUsage(ctx, tx, ns, -old)
	})
	return n, err
}

// StorageUsage returns how many bytes of values the namespace holds.
func (d *DB) StorageUsage(ctx context.Context, ns Storage) (int64, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = storageUsage(ctx, tx, ns)
		return err
	})
	return n, err
}

// ClearStorage removes everything the namespace holds (DeleteInstallation
// does it too, in its transaction).
func (d *DB) ClearStorage(ctx context.Context, ns Storage) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return clearStorage(ctx, tx, ns) })
}

func clearStorage(ctx context.Context, tx *sql.Tx, ns Storage) error {
	for _, q := range []string{
		`DELETE FROM plugin_storage WHERE tenant_id = ? AND plugin_id = ?`,
		`DELETE FROM plugin_storage_usage WHERE tenant_id = ? AND plugin_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, ns.Tenant, ns.PluginID); err != nil {
			return err
		}
	}
	return nil
}

// storedSize returns the size of key's value, 0 when there is none.
func storedSize(ctx context.Context, tx *sql.Tx, ns Storage, key string) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT length(value) FROM plugin_storage WHERE tenant_id = ? AND plugin_id = ? AND key = ?`,
		ns.Tenant, ns.PluginID, key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

func storageUsage(ctx context.Context, tx *sql.Tx, ns Storage) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT bytes FROM plugin_storage_usage WHERE tenant_id = ? AND plugin_id = ?`,
		ns.Tenant, ns.PluginID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// addUsage moves the namespace's usage by delta bytes. A decrease only
// updates (the row exists: a value was counted into it).
func addUsage(ctx context.Context, tx *sql.Tx, ns Storage, delta int64) error {
	var err error
	switch {
	case delta > 0:
		_, err = tx.ExecContext(ctx, `INSERT INTO plugin_storage_usage (tenant_id, plugin_id, bytes) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, plugin_id) DO UPDATE SET bytes = bytes + excluded.bytes`,
			ns.Tenant, ns.PluginID, delta)
	case delta < 0:
		_, err = tx.ExecContext(ctx, `UPDATE plugin_storage_usage SET bytes = MAX(bytes + ?, 0) WHERE tenant_id = ? AND plugin_id = ?`,
			delta, ns.Tenant, ns.PluginID)
	}
	if err != nil {
		return fmt.Errorf("storage usage: %w", err)
	}
	return nil
}
