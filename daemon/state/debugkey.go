package state

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
)

// DebugKey returns the tenant's remote debugging key, creating it on first
// use. The key stays the same until RegenerateDebugKey.
func (d *DB) DebugKey(ctx context.Context, tenant string) (string, error) {
	var key string
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT key FROM debug_keys WHERE tenant_id = ?`, tenant).Scan(&key)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		key = uuid.NewString()
		_, err = tx.ExecContext(ctx, `INSERT INTO debug_keys (tenant_id, key, created_at) VALUES (?, ?, ?)`, tenant, key, d.now())
		return err
	})
	return key, err
}

// RegenerateDebugKey replaces the tenant's remote debugging key with a new
// one and returns it; the old key stops working at once.
func (d *DB) RegenerateDebugKey(ctx context.Context, tenant string) (string, error) {
	key := uuid.NewString()
	_, err := d.db.ExecContext(ctx, `INSERT INTO debug_keys (tenant_id, key, created_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET key = excluded.key, created_at = excluded.created_at`, tenant, key, d.now())
	if err != nil {
		return "", err
	}
	return key, nil
}

// DebugKeyTenant returns the tenant a remote debugging key belongs to, and
// false when no tenant has that key.
func (d *DB) DebugKeyTenant(ctx context.Context, key string) (string, bool, error) {
	var tenant string
	err := d.db.QueryRowContext(ctx, `SELECT tenant_id FROM debug_keys WHERE key = ?`, key).Scan(&tenant)
	if errors.Is(err, sql.ErrNoRows) || key == "" {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return tenant, true, nil
}
