package state

import (
	"context"
	"database/sql"
	"time"
)

// PluginSettings are one plugin's settings; zero fields mean the daemon's
// defaults.
type PluginSettings struct {
	PluginID      string
	InvokeTimeout time.Duration
}

// FindPluginSettings returns every plugin's stored settings.
func (d *DB) FindPluginSettings(ctx context.Context) ([]*PluginSettings, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT plugin_id, invoke_timeout_ms FROM plugin_settings ORDER BY plugin_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*PluginSettings
	for rows.Next() {
		var s PluginSettings
		var ms int64
		if err := rows.Scan(&s.PluginID, &ms); err != nil {
			return nil, err
		}
		s.InvokeTimeout = time.Duration(ms) * time.Millisecond
		out = append(out, &s)
	}
	return out, rows.Err()
}

// SavePluginSettings stores a plugin's settings, replacing earlier ones.
func (d *DB) SavePluginSettings(ctx context.Context, s *PluginSettings) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO plugin_settings (plugin_id, invoke_timeout_ms, updated_at)
			VALUES (?, ?, ?) ON CONFLICT (plugin_id) DO UPDATE SET
			invoke_timeout_ms = excluded.invoke_timeout_ms, updated_at = excluded.updated_at`,
			s.PluginID, s.InvokeTimeout.Milliseconds(), d.now())
		return err
	})
}
