package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/plugboard/plugboard"
)

// dataKeySetting is the settings key holding the wrapped data key of
// package store/secret.
const dataKeySetting = "secret.wrapped_data_key"

// WrappedDataKey returns the wrapped data key (secret.KeyStore).
func (db *DB) WrappedDataKey(ctx context.Context) (string, bool, error) {
	return db.Setting(ctx, dataKeySetting)
}

// SwapWrappedDataKey stores next if the stored wrapped data key is still
// prev ("" for none), in one transaction (secret.KeyStore).
func (db *DB) SwapWrappedDataKey(ctx context.Context, prev, next string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, dataKeySetting).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if cur != prev {
			return plugboard.Errorf(plugboard.ECONFLICT, "the data key changed meanwhile (another process rotated or created it); try again")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, dataKeySetting, next)
		return err
	})
}
