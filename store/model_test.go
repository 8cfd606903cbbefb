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

// MustModelCredentials opens a fresh database with a keyring; it returns the
// model credential store, the database and its file's path.
func MustModelCredentials(tb testing.TB) (*store.ModelCredentials, *store.DB, string) {
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
	return db.ModelCredentials(kr), db, path
}

// ollamaModel is a customizable model of the openai_compatible example.
func ollamaModel(key string) store.ModelCredentialInput {
	return store.ModelCredentialInput{
		PluginID: "plugboard/openai_compatible", Provider: "openai_compatible",
		ModelType: plugboard.ModelLLM, Model: "llama3.1:8b",
		Values:  map[string]any{"endpoint_url": "http://ollama:11434/v1", "vision_support": false},
		Secrets: map[string]string{"api_key": key},
	}
}

func TestSaveModelCredential(t *testing.T) {
	ctx := context.Background()
	t.Run("OKCustomizableModel", func(t *testing.T) {
		ms, db, _ := MustModelCredentials(t)
		c, err := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret))
		if err != nil || !c.Customizable() || c.Masked["api_key"] != secret.Mask(testSecret) || c.Values["endpoint_url"] != "http://ollama:11434/v1" {
			t.Fatalf("saved %+v, %v", c, err)
		}
		if c.Values["vision_support"] != false {
			t.Fatalf("a switch's value comes back as %#v", c.Values["vision_support"])
		}
		values, secrets, err := ms.OpenModelCredential(ctx, c.PluginID, c.Provider, c.ModelType, c.Model)
		if err != nil || values["api_key"] != testSecret || values["endpoint_url"] != "http://ollama:11434/v1" || len(secrets) != 1 || secrets[0] != testSecret {
			t.Fatalf("OpenModelCredential = %v, %v, %v", values, secrets, err)
		}
		entries, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditModelCredentialSave})
		if len(entries) != 1 || entries[0].Actor != "alice" || entries[0].Target != "plugboard/openai_compatible/openai_compatible: llm llama3.1:8b" ||
			entries[0].Detail != "fields: api_key, endpoint_url, vision_support" {
			t.Fatalf("audit = %+v", entries)
		}
	})
	t.Run("OKResaveReplaces", func(t *testing.T) {
		ms, _, _ := MustModelCredentials(t)
		first, _ := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret))
		in := ollamaModel(testSecret + "-v2")
		in.Values["endpoint_url"] = "http://other:11434/v1"
		second, err := ms.SaveModelCredential(ctx, "bob", in)
		if err != nil || second.ID != first.ID || second.Values["endpoint_url"] != "http://other:11434/v1" || second.CreatedBy != "alice" {
			t.Fatalf("resaved %+v, %v (first %d)", second, err, first.ID)
		}
		list, _ := ms.FindModelCredentials(ctx, "")
		if len(list) != 1 {
			t.Fatalf("%d rows after a resave", len(list))
		}
	})
	t.Run("OKProviderCredential", func(t *testing.T) {
		ms, _, _ := MustModelCredentials(t)
		c, err := ms.SaveModelCredential(ctx, "alice", store.ModelCredentialInput{PluginID: "plugboard/demo_model", Provider: "demo_model"})
		if err != nil || c.Customizable() || c.Target() != "plugboard/demo_model/demo_model" {
			t.Fatalf("saved %+v, %v", c, err)
		}
		if _, err := ms.FindModelCredential(ctx, "plugboard/demo_model", "demo_model", "", ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrTypeWithoutName", func(t *testing.T) {
		ms, _, _ := MustModelCredentials(t)
		_, err := ms.SaveModelCredential(ctx, "alice", store.ModelCredentialInput{PluginID: "p/q", Provider: "q", ModelType: "llm"})
		if plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("type without a name = %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ms, _, _ := MustModelCredentials(t)
		_, err := ms.FindModelCredential(ctx, "p/q", "q", "llm", "x")
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("missing = %v", err)
		}
	})
}

func TestModelCredentialsRawDatabaseHasNoPlaintext(t *testing.T) {
	ms, _, path := MustModelCredentials(t)
	ctx := context.Background()
	if _, err := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret+"-v2")); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty; the test would prove nothing", f)
		}
		if bytes.Contains(b, []byte("Sup3rSecret")) {
			t.Fatalf("%s contains the plaintext secret", filepath.Base(f))
		}
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte(`"endpoint_url":"http://ollama:11434/v1"`)) {
		t.Fatal("the non-secret field is not in the files either; the search reads the wrong bytes")
	}
}

func TestModelCredentialCorruptOrMoved(t *testing.T) {
	ctx := context.Background()
	ms, _, path := MustModelCredentials(t)
	a, _ := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret))
	in := ollamaModel("other-secret")
	in.Model = "qwen2"
	b, _ := ms.SaveModelCredential(ctx, "alice", in)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// b's ciphertext moved onto a: sealed to b's row, it must not open as a's.
	if _, err := raw.Exec(`UPDATE model_credentials SET sealed_values = (SELECT sealed_values FROM model_credentials WHERE id = ?) WHERE id = ?`, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	list, err := ms.FindModelCredentials(ctx, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("FindModelCredentials = %d, %v", len(list), err)
	}
	for _, c := range list {
		if (c.ID == a.ID) != (c.Problem != "") {
			t.Errorf("%s: Problem = %q", c.Model, c.Problem)
		}
	}
	_, _, err = ms.OpenModelCredential(ctx, a.PluginID, a.Provider, a.ModelType, a.Model)
	if err == nil || !strings.Contains(err.Error(), "llama3.1:8b") || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("OpenModelCredential(moved) = %v, want the model and field named", err)
	}
}

func TestDefaultModels(t *testing.T) {
	ctx := context.Background()
	ms, db, _ := MustModelCredentials(t)
	c, _ := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret))
	set := func(d store.DefaultModel) {
		t.Helper()
		if err := db.SetDefaultModel(ctx, "alice", d); err != nil {
			t.Fatal(err)
		}
	}
	set(store.DefaultModel{ModelType: plugboard.ModelLLM, PluginID: c.PluginID, Provider: c.Provider, Model: c.Model})
	set(store.DefaultModel{ModelType: plugboard.ModelTextEmbedding, PluginID: "plugboard/demo_model", Provider: "demo_model", Model: "demo-embedding"})
	set(store.DefaultModel{ModelType: plugboard.ModelLLM, PluginID: c.PluginID, Provider: c.Provider, Model: c.Model}) // again: replaced
	defs, err := db.DefaultModels(ctx)
	if err != nil || len(defs) != 2 || defs[plugboard.ModelLLM].Model != "llama3.1:8b" || defs[plugboard.ModelTextEmbedding].Provider != "demo_model" {
		t.Fatalf("DefaultModels = %+v, %v", defs, err)
	}
	// Deleting the customizable model clears the default that named it.
	if err := ms.DeleteModelCredential(ctx, "bob", c.PluginID, c.Provider, c.ModelType, c.Model); err != nil {
		t.Fatal(err)
	}
	defs, _ = db.DefaultModels(ctx)
	if _, ok := defs[plugboard.ModelLLM]; ok || len(defs) != 1 {
		t.Fatalf("after delete: %+v", defs)
	}
	set(store.DefaultModel{ModelType: plugboard.ModelTextEmbedding}) // cleared
	if defs, _ = db.DefaultModels(ctx); len(defs) != 0 {
		t.Fatalf("after clearing: %+v", defs)
	}
	entries, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditModelDefault})
	deleted, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditModelCredentialDelete})
	if len(entries) != 4 || entries[0].Detail != "cleared" || len(deleted) != 1 || deleted[0].Actor != "bob" {
		t.Fatalf("audit: defaults %+v, deleted %+v", entries, deleted)
	}
}

func TestDeleteCredentialsForPluginTakesModels(t *testing.T) {
	ctx := context.Background()
	ms, db, _ := MustModelCredentials(t)
	c, _ := ms.SaveModelCredential(ctx, "alice", ollamaModel(testSecret))
	if _, err := ms.SaveModelCredential(ctx, "alice", store.ModelCredentialInput{PluginID: "plugboard/demo_model", Provider: "demo_model"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDefaultModel(ctx, "alice", store.DefaultModel{ModelType: plugboard.ModelLLM, PluginID: c.PluginID, Provider: c.Provider, Model: c.Model}); err != nil {
		t.Fatal(err)
	}
	n, err := db.DeleteCredentialsForPlugin(ctx, "bob", c.PluginID)
	if err != nil || n != 1 {
		t.Fatalf("DeleteCredentialsForPlugin = %d, %v", n, err)
	}
	list, _ := ms.FindModelCredentials(ctx, "")
	defs, _ := db.DefaultModels(ctx)
	if len(list) != 1 || list[0].PluginID != "plugboard/demo_model" || len(defs) != 0 {
		t.Fatalf("left %+v, defaults %+v", list, defs)
	}
}
