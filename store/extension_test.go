package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// ExtDB is a fresh database with its keyring and file path.
type ExtDB struct {
	*store.DB
	Keys *secret.Keyring
	Path string
}

// MustExtDB opens a fresh database and its keyring (master key from the
// environment value, as PLUGBOARD_SECRET_KEY would give it).
func MustExtDB(tb testing.TB) *ExtDB {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "plugboard.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	keys, err := secret.Open(context.Background(), dir, secret.NewMasterKey(), db)
	if err != nil {
		tb.Fatal(err)
	}
	return &ExtDB{DB: db, Keys: keys, Path: path}
}

// MustCreateExtension adds an extension or fails the test.
func (db *ExtDB) MustCreateExtension(tb testing.TB, name, key string) *store.Extension {
	tb.Helper()
	e, err := db.CreateExtension(context.Background(), db.Keys, "root", store.ExtensionInput{Name: name, Endpoint: "https://ext.example/api", APIKey: key})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// rawBytes returns the database's files (main, WAL) as they are on disk.
func (db *ExtDB) rawBytes(tb testing.TB) []byte {
	tb.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db.Path + suffix)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestCreateExtension(t *testing.T) {
	db := MustExtDB(t)
	ctx := t.Context()
	t.Run("OK", func(t *testing.T) {
		e := db.MustCreateExtension(t, " Weather ", "sk-weather-0123456789")
		if e.Name != "Weather" || e.MaskedKey != "sk*****************89" || e.APIKey() != "sk-weather-0123456789" {
			t.Fatalf("got %+v (masked %q)", e, e.MaskedKey)
		}
		got, err := db.FindExtensionByID(ctx, db.Keys, e.ID)
		if err != nil || got.APIKey() != "sk-weather-0123456789" || got.Endpoint != "https://ext.example/api" || got.KeyErr != nil {
			t.Fatalf("found %+v, %v", got, err)
		}
	})
	t.Run("OKRawFileHasNoKey", func(t *testing.T) {
		db.MustCreateExtension(t, "Plain", "plaintext-needle-4242")
		if raw := db.rawBytes(t); bytes.Contains(raw, []byte("plaintext-needle-4242")) || len(raw) == 0 {
			t.Fatalf("the database file holds the key in clear (%d bytes searched)", len(raw))
		}
	})
	for _, tc := range []struct {
		name, field, want string
		in                store.ExtensionInput
	}{
		{"ErrNameRequired", "name", "Name is required.", store.ExtensionInput{Name: " ", Endpoint: "https://x.test", APIKey: "12345"}},
		{"ErrEndpointRequired", "endpoint", "Endpoint is required.", store.ExtensionInput{Name: "x", APIKey: "12345"}},
		{"ErrKeyRequired", "api_key", "API key is required.", store.ExtensionInput{Name: "x", Endpoint: "https://x.test"}},
		{"ErrKeyTooShort", "api_key", "API key must be at least 5 characters (it has 4).", store.ExtensionInput{Name: "x", Endpoint: "https://x.test", APIKey: "1234"}},
		{"ErrNameTaken", "name", "An extension named weather exists already.", store.ExtensionInput{Name: "weather", Endpoint: "https://x.test", APIKey: "12345"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.CreateExtension(ctx, db.Keys, "root", tc.in)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Message != tc.want || plugboard.ErrorCode(err) != plugboard.EINVALID {
				t.Fatalf("err = %v, want %s: %s", err, tc.field, tc.want)
			}
		})
	}
	t.Run("OKNothingHalfDone", func(t *testing.T) {
		list, err := db.FindExtensions(ctx, db.Keys)
		if err != nil || len(list) != 2 || list[0].Name != "Plain" || list[1].Name != "Weather" {
			t.Fatalf("list %v, %v", list, err)
		}
	})
}

func TestUpdateExtension(t *testing.T) {
	db := MustExtDB(t)
	ctx := t.Context()
	e := db.MustCreateExtension(t, "One", "key-one-1234")
	db.MustCreateExtension(t, "Two", "key-two-1234")
	t.Run("OK", func(t *testing.T) {
		up, err := db.UpdateExtension(ctx, db.Keys, "root", e.ID, store.ExtensionInput{Name: "Uno", Endpoint: "http://uno.test/x", APIKey: "key-uno-5678"})
		if err != nil || up.Name != "Uno" || !up.CreatedAt.Equal(e.CreatedAt) {
			t.Fatalf("%+v, %v", up, err)
		}
		got, _ := db.FindExtensionByID(ctx, db.Keys, e.ID)
		if got.Name != "Uno" || got.Endpoint != "http://uno.test/x" || got.APIKey() != "key-uno-5678" {
			t.Fatalf("stored %+v", got)
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		_, err := db.UpdateExtension(ctx, db.Keys, "root", e.ID, store.ExtensionInput{Name: "TWO", Endpoint: "http://uno.test/x", APIKey: "key-uno-5678"})
		if fieldOf(err) != "name" {
			t.Fatalf("err = %v", err)
		}
		if got, _ := db.FindExtensionByID(ctx, db.Keys, e.ID); got.Name != "Uno" {
			t.Fatalf("renamed to %s anyway", got.Name)
		}
	})
	t.Run("OKSameNameOtherCase", func(t *testing.T) {
		if _, err := db.UpdateExtension(ctx, db.Keys, "root", e.ID, store.ExtensionInput{Name: "UNO", Endpoint: "http://uno.test/x", APIKey: "key-uno-5678"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.UpdateExtension(ctx, db.Keys, "root", "nope", store.ExtensionInput{Name: "x", Endpoint: "http://x.test", APIKey: "12345"})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDeleteExtension(t *testing.T) {
	db := MustExtDB(t)
	ctx := t.Context()
	e := db.MustCreateExtension(t, "Gone", "key-gone-1234")
	t.Run("OK", func(t *testing.T) {
		del, err := db.DeleteExtension(ctx, "root", e.ID)
		if err != nil || del.Name != "Gone" {
			t.Fatalf("%+v, %v", del, err)
		}
		if _, err := db.FindExtensionByID(ctx, db.Keys, e.ID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("still found: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.DeleteExtension(ctx, "root", e.ID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExtensionCorruptKey(t *testing.T) {
	db := MustExtDB(t)
	ctx := t.Context()
	bad := db.MustCreateExtension(t, "Bad", "key-bad-1234")
	good := db.MustCreateExtension(t, "Good", "key-good-1234")
	raw, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE api_extensions SET api_key = X'01DEADBEEF' WHERE id = ?`, bad.ID); err != nil {
		t.Fatal(err)
	}
	// A key copied from another record does not open either (the additional
	// data binds it to its extension).
	other := db.MustCreateExtension(t, "Copied", "key-copied-1234")
	if _, err := raw.ExecContext(ctx, `UPDATE api_extensions SET api_key = (SELECT api_key FROM api_extensions WHERE id = ?) WHERE id = ?`, good.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrOneRecord", func(t *testing.T) {
		list, err := db.FindExtensions(ctx, db.Keys)
		if err != nil || len(list) != 3 {
			t.Fatalf("list %v, %v", list, err)
		}
		for _, e := range list {
			wantErr := e.Name != "Good"
			if (e.KeyErr != nil) != wantErr {
				t.Errorf("%s: KeyErr %v", e.Name, e.KeyErr)
			}
			if wantErr && (!strings.Contains(e.KeyErr.Error(), "cannot be decrypted") || !strings.Contains(e.KeyErr.Error(), e.Name) || e.APIKey() != "") {
				t.Errorf("%s: KeyErr %q, key %q", e.Name, e.KeyErr, e.APIKey())
			}
		}
	})
	t.Run("OKReEnterKey", func(t *testing.T) {
		if _, err := db.UpdateExtension(ctx, db.Keys, "root", bad.ID, store.ExtensionInput{Name: "Bad", Endpoint: bad.Endpoint, APIKey: "key-new-1234"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindExtensionByID(ctx, db.Keys, bad.ID); got.KeyErr != nil || got.APIKey() != "key-new-1234" {
			t.Fatalf("%+v", got)
		}
	})
}

func TestExtensionAudit(t *testing.T) {
	db := MustExtDB(t)
	ctx := t.Context()
	e := db.MustCreateExtension(t, "Audited", "audit-secret-9876")
	if _, err := db.UpdateExtension(ctx, db.Keys, "alice", e.ID, store.ExtensionInput{Name: "Audited2", Endpoint: "https://other.test/x", APIKey: "audit-secret-9876"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateExtension(ctx, db.Keys, "alice", e.ID, store.ExtensionInput{Name: "Audited2", Endpoint: "https://other.test/x", APIKey: "audit-secret-0000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteExtension(ctx, "bob", e.ID); err != nil {
		t.Fatal(err)
	}
	list, _, err := db.FindAuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range list {
		got = append(got, a.Actor+" "+a.Action+" "+a.Target+": "+a.Detail)
		if strings.Contains(a.Detail+a.Target, "audit-secret") {
			t.Errorf("entry holds the key: %+v", a)
		}
	}
	want := []string{
		"bob extension.delete extension Audited2: endpoint https://other.test/x",
		"alice extension.update extension Audited2: API key replaced",
		"alice extension.update extension Audited: renamed to Audited2; endpoint https://ext.example/api → https://other.test/x",
		"root extension.create extension Audited: endpoint https://ext.example/api",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
