package sqlitedb_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plugboard/plugboard/daemon/sqlitedb"
)

// MustOpen opens a one-connection pool on a new file in a temporary folder.
func MustOpen(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "test.db")
	db, err := sqlitedb.Open(path, sqlitedb.Pool{Conns: 1, Immediate: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

// recorded lists schema_migrations' first column in order.
func recorded(tb testing.TB, db *sql.DB, column string) []string {
	tb.Helper()
	rows, err := db.Query(`SELECT CAST(` + column + ` AS TEXT) FROM schema_migrations ORDER BY ` + column)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestOpen(t *testing.T) {
	db, path := MustOpen(t)
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, timeout int
	if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := db.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != 5000 {
		t.Errorf("busy_timeout = %d, %v; want 5000", timeout, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 600", path, fi.Mode(), err)
	}
}

func TestMigrate(t *testing.T) {
	files := fstest.MapFS{
		"001_a.sql":      {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)},
		"002_b.sql":      {Data: []byte(`CREATE TABLE b (id INTEGER PRIMARY KEY);`)},
		"002_b_more.sql": {Data: []byte(`ALTER TABLE b ADD COLUMN note TEXT;`)},
		"README":         {Data: []byte(`not a migration`)},
	}
	at := func() int64 { return 42 }
	t.Run("ByName", func(t *testing.T) {
		db, _ := MustOpen(t)
		m := sqlitedb.Migrations{FS: files, Record: sqlitedb.ByName, AppliedAt: at}
		for range 2 { // the second run finds everything recorded
			if err := sqlitedb.Migrate(context.Background(), db, m); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := recorded(t, db, "name"), []string{"001_a.sql", "002_b.sql", "002_b_more.sql"}; !reflect.DeepEqual(got, want) {
			t.Errorf("recorded %v, want %v", got, want)
		}
		if _, err := db.Exec(`INSERT INTO b (id, note) VALUES (1, 'x')`); err != nil {
			t.Errorf("b after its migrations: %v", err)
		}
	})
	t.Run("ByNumber", func(t *testing.T) {
		db, _ := MustOpen(t)
		m := sqlitedb.Migrations{FS: fstest.MapFS{"001_a.sql": files["001_a.sql"], "008_b.sql": files["002_b.sql"]},
			Record: sqlitedb.ByNumber, AppliedAt: at}
		for range 2 {
			if err := sqlitedb.Migrate(context.Background(), db, m); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := recorded(t, db, "version"), []string{"1", "8"}; !reflect.DeepEqual(got, want) {
			t.Errorf("recorded %v, want %v", got, want)
		}
	})
	t.Run("ErrNameNotNumbered", func(t *testing.T) {
		db, _ := MustOpen(t)
		err := sqlitedb.Migrate(context.Background(), db, sqlitedb.Migrations{
			FS: fstest.MapFS{"init.sql": files["001_a.sql"]}, Record: sqlitedb.ByNumber, AppliedAt: at})
		if err == nil || !strings.Contains(err.Error(), "init.sql: migration name must start with a number") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrFailedMigrationLeavesNothing", func(t *testing.T) {
		db, _ := MustOpen(t)
		err := sqlitedb.Migrate(context.Background(), db, sqlitedb.Migrations{FS: fstest.MapFS{
			"001_a.sql":   files["001_a.sql"],
			"002_bad.sql": {Data: []byte(`CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);`)},
		}, Record: sqlitedb.ByName, AppliedAt: at})
		if err == nil || !strings.Contains(err.Error(), "002_bad.sql") {
			t.Fatalf("err = %v", err)
		}
		if got, want := recorded(t, db, "name"), []string{"001_a.sql"}; !reflect.DeepEqual(got, want) {
			t.Errorf("recorded %v, want %v", got, want)
		}
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("table of the failed migration: %d, %v; want none", n, err)
		}
	})
}
