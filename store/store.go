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
	"sync"
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
	// writeStmts and readStmts are the hot paths' statements, prepared
	// once per pool (the driver parses every query it is given afresh).
	writeStmts, readStmts stmts
	// keys caches FindAPIKeyByHash (apikey.go) and creds FindCredentials
	// of one provider (credential.go): a gateway call reads both.
	keys  readCache[string, *APIKey]
	creds readCache[credsOf, []*Credential]
	// group shares a transaction among concurrent runs' writes (group.go).
	group *groupCommit

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
	db := &DB{write: write, read: read, writeStmts: stmts{db: write}, readStmts: stmts{db: read}, Now: time.Now, HashCost: bcrypt.DefaultCost}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	for _, q := range hotWrites {
		if _, err := db.writeStmts.get(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	db.group = newGroupCommit(write)
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	return errors.Join(db.readStmts.close(), db.writeStmts.close(), db.read.Close(), db.write.Close())
}

// stmts are one pool's prepared statements by query.
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// tx and txStmts are the latest write transaction and its bound
	// statements (inTx).
	tx      *sql.Tx
	txStmts map[*sql.Stmt]*sql.Stmt
}

// get is the query prepared on the pool (database/sql prepares it again on
// each connection it runs on the first time, then reuses it there). Not
// for the write pool during a transaction (see hotWrites).
func (s *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[query]; st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = map[string]*sql.Stmt{}
	}
	s.m[query] = st
	return st, nil
}

func (s *stmts) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, st := range s.m {
		errs = append(errs, st.Close())
	}
	s.m = nil
	return errors.Join(errs...)
}

// inTx is the query's prepared statement bound to tx (nil when it is not
// prepared), made once per transaction: a group commit's batch runs the
// same few statements for each of its writes. Only the latest
// transaction's are kept — the pool writes through one connection, one
// transaction at a time — and holding that *sql.Tx keeps its address
// from being reused by a later one while its statements are kept.
func (s *stmts) inTx(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[query]
	if st == nil {
		return nil
	}
	if s.tx != tx {
		s.tx, s.txStmts = tx, map[*sql.Stmt]*sql.Stmt{}
	}
	bound := s.txStmts[st]
	if bound == nil {
		bound = tx.StmtContext(ctx, st)
		s.txStmts[st] = bound
	}
	return bound
}

// lookup is the query's statement if it is prepared (nil otherwise).
func (s *stmts) lookup(query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[query]
}

// txExec runs a statement in the write transaction tx, prepared if it is
// one of hotWrites.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.writeStmts.inTx(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow reads one row in the write transaction tx, prepared if it is
// one of hotWrites.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.writeStmts.inTx(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// hotWrites are the statements of the writes every tool call makes,
// prepared when the database opens: a write transaction holds the one
// writing connection, so none can be prepared during one.
var hotWrites = []string{sqlInsertRun, sqlInsertEndedRun, sqlRunMessages, sqlInsertRunEvent, sqlCountRunEvent, sqlEndRun, sqlSelectRun,
	sqlKeyLastUsed, sqlInsertAudit}

// readRow reads one row of a hot statement from the reading pool.
func (db *DB) readRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
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
