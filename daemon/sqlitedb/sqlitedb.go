// Package sqlitedb opens the SQLite databases of Plugboard (the daemon's
// daemon/state and the admin app's store) and brings their schema up to
// date from numbered, embedded .sql migrations. Both open their files the
// same way: created 0600 before SQLite sees them, WAL, foreign keys, a busy
// timeout; one connection writes.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Pool says how to open one pool of connections.
type Pool struct {
	// Conns is how many connections the pool holds: 1 for the pool that
	// writes (SQLite has one writer).
	Conns int
	// Immediate begins every transaction with BEGIN IMMEDIATE, taking the
	// write lock at the start rather than at the first write.
	Immediate bool
}

// Open opens a pool on the database file at path, creating the file first
// (see MakePrivate).
func Open(path string, p Pool) (*sql.DB, error) {
	if err := MakePrivate(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	q := url.Values{}
	for _, pragma := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(5000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", pragma)
	}
	if p.Immediate {
		q.Set("_txlock", "immediate")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(p.Conns)
	db.SetMaxIdleConns(p.Conns)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// MakePrivate creates the database file readable and writable by its owner
// only (SQLite would create it 0644; the databases hold password hashes,
// sessions, sealed secrets and debug keys), and narrows an existing one and
// its WAL and shared-memory files, which SQLite creates with the database
// file's mode.
func MakePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Record says how the table schema_migrations names an applied migration.
type Record int

const (
	// ByName records the file name (name TEXT PRIMARY KEY): two files may
	// share a number. The admin app's table.
	ByName Record = iota
	// ByNumber records the file name's leading number (version INTEGER
	// PRIMARY KEY). The daemon's table.
	ByNumber
)

// Migrations are a database's schema changes: the .sql files at the root
// of FS, applied in name order.
type Migrations struct {
	FS     fs.FS
	Record Record
	// AppliedAt gives the applied_at value recorded with each migration.
	AppliedAt func() int64
}

// Migrate applies, in order and each in its own transaction, the migrations
// not yet recorded in schema_migrations, and records each.
func Migrate(ctx context.Context, db *sql.DB, m Migrations) error {
	column, kind := "name", "TEXT"
	if m.Record == ByNumber {
		column, kind = "version", "INTEGER"
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		`+column+` `+kind+` PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(m.FS, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := m.apply(ctx, db, column, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// apply runs one migration unless it is already recorded.
func (m Migrations) apply(ctx context.Context, db *sql.DB, column, name string) error {
	key, err := m.key(name)
	if err != nil {
		return err
	}
	script, err := fs.ReadFile(m.FS, name)
	if err != nil {
		return err
	}
	return InTx(ctx, db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE `+column+` = ?`, key).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (`+column+`, applied_at) VALUES (?, ?)`, key, m.AppliedAt())
		return err
	})
}

// key is what the table records for the migration file name.
func (m Migrations) key(name string) (any, error) {
	if m.Record == ByName {
		return name, nil
	}
	num, _, _ := strings.Cut(name, "_")
	version, err := strconv.Atoi(num)
	if err != nil {
		return nil, fmt.Errorf("migration name must start with a number")
	}
	return version, nil
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back when it does not.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
