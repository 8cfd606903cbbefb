// Package state is the daemon's SQLite database: uploaded packages,
// installations and install tasks.
package state

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/plugboard/plugboard/daemon/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the daemon's database. It holds a single connection, so writes never
// contend with each other inside the process.
type DB struct {
	db *sql.DB
	// Now gives the time stored in created_at and updated_at.
	Now func() time.Time
}

// Open opens (or creates) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Pool{Conns: 1})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	d := &DB{db: db, Now: time.Now}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// migrate applies the embedded migrations not yet recorded (by number, with
// the time in unix nanoseconds).
func (d *DB) migrate(ctx context.Context) error {
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlitedb.Migrate(ctx, d.db, sqlitedb.Migrations{FS: files, Record: sqlitedb.ByNumber, AppliedAt: d.now})
}

// tx runs fn in a transaction, committing when it returns nil.
func (d *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return sqlitedb.InTx(ctx, d.db, fn)
}

// now is the current time as stored: unix nanoseconds.
func (d *DB) now() int64 { return d.Now().UnixNano() }

// fromUnix turns a stored time back into a time.Time (UTC).
func fromUnix(n int64) time.Time { return time.Unix(0, n).UTC() }
