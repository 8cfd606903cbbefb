package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

const testSecret = "demo-Sup3rSecretValue-42"

// MustCredentials opens a fresh database with a keyring; it returns the
// credential store, the database and its file's path.
func MustCredentials(tb testing.TB) (*store.Credentials, *store.DB, string) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "plugboard.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	kr, err := secret.Open(context.Background(), dir, secret.NewMasterKey(), db)
	if err != nil {
		tb.Fatal(err)
	}
	return db.Credentials(kr), db, path
}

// MustCreateCredential stores a gotools credential with the given key.
func MustCreateCredential(tb testing.TB, cs *store.Credentials, name, key string) *store.Credential {
	tb.Helper()
	c, err := cs.CreateCredential(context.Background(), "alice", store.CredentialInput{
		PluginID: "plugboard/gotools", Provider: "gotools", Name: name,
		Values: map[string]any{"region": "eu"}, Secrets: map[string]string{"api_key": key},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCreateCredential(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		c := MustCreateCredential(t, cs, "prod", testSecret)
		if !c.IsDefault || c.Masked["api_key"] != secret.Mask(testSecret) || c.Values["region"] != "eu" || c.Problem != "" {
			t.Fatalf("created %+v", c)
		}
		plain, err := cs.DecryptedCredential(ctx, c.ID)
		if err != nil || plain["api_key"] != testSecret || plain["region"] != "eu" {
			t.Fatalf("DecryptedCredential = %v, %v", plain, err)
		}
	})
	t.Run("OKGeneratedNameSecondNotDefault", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		MustCreateCredential(t, cs, "", testSecret)
		c := MustCreateCredential(t, cs, "", testSecret)
		if c.Name != "API KEY 2" || c.IsDefault {
			t.Fatalf("second credential %q default=%v", c.Name, c.IsDefault)
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		MustCreateCredential(t, cs, "prod", testSecret)
		_, err := cs.CreateCredential(ctx, "alice", store.CredentialInput{PluginID: "plugboard/gotools", Provider: "gotools", Name: "prod"})
		if fieldOf(err) != "name" || !strings.Contains(err.Error(), "already") {
			t.Fatalf("duplicate name = %v", err)
		}
	})
	t.Run("ErrNameTooLong", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		_, err := cs.CreateCredential(ctx, "alice", store.CredentialInput{PluginID: "p/q", Provider: "q", Name: strings.Repeat("x", 31)})
		if fieldOf(err) != "name" {
			t.Fatalf("long name = %v", err)
		}
	})
}

func TestRawDatabaseHasNoPlaintext(t *testing.T) {
	cs, _, path := MustCredentials(t)
	c := MustCreateCredential(t, cs, "prod", testSecret)
	if _, err := cs.UpdateCredential(context.Background(), "alice", c.ID, store.CredentialInput{
		Name: "prod", Secrets: map[string]string{"api_key": testSecret + "-v2"}}); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		all = append(all, b...)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty; the test would prove nothing", f)
		}
		if bytes.Contains(b, []byte("Sup3rSecret")) {
			t.Fatalf("%s contains the plaintext secret", filepath.Base(f))
		}
	}
	if !bytes.Contains(all, []byte(`"region":"eu"`)) {
		t.Fatal("the non-secret field is not in the files either; the search reads the wrong bytes")
	}
}

func TestUpdateCredential(t *testing.T) {
	ctx := context.Background()
	t.Run("OKRenameAudited", func(t *testing.T) {
		cs, db, _ := MustCredentials(t)
		c := MustCreateCredential(t, cs, "prod", testSecret)
		u, err := cs.UpdateCredential(ctx, "bob", c.ID, store.CredentialInput{Name: "live",
			Values: map[string]any{"region": "us"}, Secrets: map[string]string{"api_key": testSecret}})
		if err != nil || u.Name != "live" {
			t.Fatalf("update = %+v, %v", u, err)
		}
		entries, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditCredentialUpdate})
		if len(entries) != 1 || entries[0].Actor != "bob" || entries[0].Detail != `renamed from "prod"; changed: region` {
			t.Fatalf("audit = %+v", entries[0])
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		_, err := cs.UpdateCredential(ctx, "bob", 99, store.CredentialInput{Name: "x"})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("update missing = %v", err)
		}
	})
}

func TestCorruptCiphertext(t *testing.T) {
	ctx := context.Background()
	cs, _, path := MustCredentials(t)
	good := MustCreateCredential(t, cs, "good", testSecret)
	bad := MustCreateCredential(t, cs, "bad", testSecret)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE credentials SET sealed_values = '{"api_key":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh"}' WHERE id = ?`, bad.ID); err != nil {
		t.Fatal(err)
	}
	list, err := cs.FindCredentials(ctx, store.CredentialFilter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("FindCredentials = %d, %v", len(list), err)
	}
	for _, c := range list {
		if (c.ID == bad.ID) != (c.Problem != "") {
			t.Errorf("%s: Problem = %q", c.Name, c.Problem)
		}
	}
	_, err = cs.DecryptedCredential(ctx, bad.ID)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("DecryptedCredential(corrupt) = %v, want the record and field named", err)
	}
	if _, err := cs.DecryptedCredential(ctx, good.ID); err != nil {
		t.Fatalf("the good record suffers: %v", err)
	}
}

func TestDefaultsAndDelete(t *testing.T) {
	ctx := context.Background()
	t.Run("OKSetDefault", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		MustCreateCredential(t, cs, "a", testSecret)
		b := MustCreateCredential(t, cs, "b", testSecret)
		if err := cs.SetDefaultCredential(ctx, "alice", b.ID); err != nil {
			t.Fatal(err)
		}
		d, err := cs.DefaultCredential(ctx, "plugboard/gotools", "gotools")
		if err != nil || d.ID != b.ID {
			t.Fatalf("default = %+v, %v", d, err)
		}
	})
	t.Run("OKDeleteDefaultPromotesOldest", func(t *testing.T) {
		cs, _, _ := MustCredentials(t)
		a := MustCreateCredential(t, cs, "a", testSecret)
		b := MustCreateCredential(t, cs, "b", testSecret)
		if err := cs.DeleteCredential(ctx, "alice", a.ID); err != nil {
			t.Fatal(err)
		}
		d, err := cs.DefaultCredential(ctx, "plugboard/gotools", "gotools")
		if err != nil || d.ID != b.ID || !d.IsDefault {
			t.Fatalf("default after delete = %+v, %v", d, err)
		}
	})
	t.Run("OKDeleteForPlugin", func(t *testing.T) {
		cs, db, _ := MustCredentials(t)
		MustCreateCredential(t, cs, "a", testSecret)
		MustCreateCredential(t, cs, "b", testSecret)
		n, err := db.DeleteCredentialsForPlugin(ctx, "alice", "plugboard/gotools")
		if err != nil || n != 2 {
			t.Fatalf("DeleteCredentialsForPlugin = %d, %v", n, err)
		}
		if list, _ := cs.FindCredentials(ctx, store.CredentialFilter{}); len(list) != 0 {
			t.Fatalf("%d left", len(list))
		}
	})
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	cs, db, _ := MustCredentials(t)
	c := MustCreateCredential(t, cs, "prod", testSecret)
	if err := cs.RecordCredentialTest(ctx, "alice", c.ID, false, "api_key must start with demo-"); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, "bob", store.AuditPluginInstall, "plugboard/gotools", "version 0.1.0"); err != nil {
		t.Fatal(err)
	}
	t.Run("OKNewestFirstPaged", func(t *testing.T) {
		list, total, err := db.FindAuditEntries(ctx, store.AuditFilter{PerPage: 2})
		if err != nil || total != 3 || len(list) != 2 || list[0].Action != store.AuditPluginInstall {
			t.Fatalf("page 1 = %d of %d, %v", len(list), total, err)
		}
		list, _, _ = db.FindAuditEntries(ctx, store.AuditFilter{PerPage: 2, Page: 2})
		if len(list) != 1 || list[0].Action != store.AuditCredentialCreate {
			t.Fatalf("page 2 = %+v", list)
		}
	})
	t.Run("OKFilter", func(t *testing.T) {
		list, total, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditCredentialTest})
		if total != 1 || list[0].Detail != "failed: api_key must start with demo-" {
			t.Fatalf("filtered = %+v", list)
		}
		actions, _ := db.AuditActions(ctx)
		if len(actions) != 3 {
			t.Fatalf("actions = %v", actions)
		}
	})
	t.Run("OKNoSecret", func(t *testing.T) {
		list, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{})
		for _, e := range list {
			if strings.Contains(e.Target+e.Detail, "Sup3r") {
				t.Fatalf("audit entry holds the secret: %+v", e)
			}
		}
	})
}

// TestProviderCredentialsKeptUntilWritten: one provider's list, which
// every tool call reads, is kept in memory; each kind of write is seen by
// the next read, and a caller changing its list changes no other's.
func TestProviderCredentialsKeptUntilWritten(t *testing.T) {
	ctx := context.Background()
	cs, db, _ := MustCredentials(t)
	gotools := store.CredentialFilter{PluginID: "plugboard/gotools", Provider: "gotools"}
	names := func() string {
		t.Helper()
		list, err := cs.FindCredentials(ctx, gotools)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			s := c.Name
			if c.IsDefault {
				s += "*"
			}
			if c.TestOK {
				s += "+"
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	if got := names(); got != "" {
		t.Fatalf("empty: %q", got)
	}
	a := MustCreateCredential(t, cs, "a", testSecret)
	if got := names(); got != "a*" {
		t.Fatalf("after create: %q", got)
	}
	b := MustCreateCredential(t, cs, "b", testSecret)
	if got := names(); got != "a*,b" {
		t.Fatalf("after a second: %q", got)
	}
	if err := cs.SetDefaultCredential(ctx, "alice", b.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "b*,a" {
		t.Fatalf("after set default: %q", got)
	}
	if _, err := cs.UpdateCredential(ctx, "alice", a.ID, store.CredentialInput{PluginID: "plugboard/gotools", Provider: "gotools",
		Name: "a2", Values: map[string]any{"region": "us"}, Secrets: map[string]string{"api_key": testSecret}}); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "b*,a2" {
		t.Fatalf("after update: %q", got)
	}
	if err := cs.RecordCredentialTest(ctx, "alice", b.ID, true, "fine"); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "b*+,a2" {
		t.Fatalf("after a test: %q", got)
	}
	list, _ := cs.FindCredentials(ctx, gotools)
	list[0].Name, list[0].Values["region"] = "changed by a caller", "mars"
	again, _ := cs.FindCredentials(ctx, gotools)
	if again[0].Name != "b" || again[0].Values["region"] != "eu" {
		t.Fatalf("a caller's change reached another: %+v", again[0])
	}
	if err := cs.DeleteCredential(ctx, "alice", b.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "a2*" {
		t.Fatalf("after delete: %q", got)
	}
	if _, err := db.DeleteCredentialsForPlugin(ctx, "alice", "plugboard/gotools"); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "" {
		t.Fatalf("after the plugin's are deleted: %q", got)
	}
}
