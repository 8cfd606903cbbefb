// Package store is the admin app's SQLite database: users, their sessions and
// sign-in attempts, and settings. Its numbered migrations are applied by
// daemon/sqlitedb.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plugboard/plugboard/daemon/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the admin app's database. Writes go through one connection (SQLite
// has one writer); reads use a small pool of their own.
type DB struct {
	write *sql.DB
	read  *sql.DB

	// Now returns the current time; tests replace it.
	Now func() time.Time
	// HashCost is the bcrypt cost of new password hashes.
	HashCost int
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	write, err := sqlitedb.Open(path, sqlitedb.Pool{Conns: 1, Immediate: true})
	if err != nil {
		return nil, err
	}
	read, err := sqlitedb.Open(path, sqlitedb.Pool{Conns: 4, Immediate: true})
	if err != nil {
		write.Close()
		return nil, err
	}
	db := &DB{write: write, read: read, Now: time.Now, HashCost: bcrypt.DefaultCost}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations not yet recorded (by file name,
// with the time in unix seconds).
func (db *DB) migrate(ctx context.Context) error {
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlitedb.Migrate(ctx, db.write, sqlitedb.Migrations{
		FS: files, Record: sqlitedb.ByName, AppliedAt: func() int64 { return db.Now().Unix() },
	})
}

// Migrations lists the names of the migrations recorded as applied.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqlitedb.InTx(ctx, db.write, fn)
}

// unixNano and fromUnixNano convert times to and from their stored form.
func unixNano(t time.Time) int64     { return t.UnixNano() }
func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }
