package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestGitHubSettings(t *testing.T) {
	ctx := context.Background()
	t.Run("OKDefaults", func(t *testing.T) {
		db := MustExtDB(t)
		g, err := db.GitHubSettings(ctx, db.Keys)
		if err != nil || g.BaseURL != store.DefaultGitHubBaseURL || g.Token() != "" || g.MaskedToken != "" {
			t.Fatalf("settings = %+v, %v", g, err)
		}
	})
	t.Run("OKTokenSealedMaskedKept", func(t *testing.T) {
		db := MustExtDB(t)
		const tok = "ghp_TOPSECRETtoken1234"
		g, err := db.SaveGitHubSettings(ctx, db.Keys, "root", store.GitHubSettingsInput{BaseURL: "https://ghe.example.com/api/v3/", Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		if g.BaseURL != "https://ghe.example.com/api/v3" || g.Token() != tok || g.MaskedToken == "" || g.MaskedToken == tok {
			t.Fatalf("settings = %+v", g)
		}
		// Re-saving the masked value keeps the token.
		g, err = db.SaveGitHubSettings(ctx, db.Keys, "root", store.GitHubSettingsInput{BaseURL: g.BaseURL, Token: g.MaskedToken})
		if err != nil || g.Token() != tok {
			t.Fatalf("after masked re-save token = %q, %v", g.Token(), err)
		}
		// The token is encrypted at rest.
		raw := mustReadDB(t, db.Path)
		if bytes.Contains(raw, []byte(tok)) || bytes.Contains(raw, []byte("TOPSECRET")) {
			t.Fatal("the token is stored in clear in the database files")
		}
		entries, _, err := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditGitHubSettings})
		if err != nil || len(entries) != 2 || entries[1].Detail != "API URL https://ghe.example.com/api/v3; token replaced" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
		// Empty removes it.
		g, err = db.SaveGitHubSettings(ctx, db.Keys, "root", store.GitHubSettingsInput{BaseURL: g.BaseURL})
		if err != nil || g.Token() != "" || g.MaskedToken != "" {
			t.Fatalf("after clearing = %+v, %v", g, err)
		}
	})
	t.Run("ErrBaseURL", func(t *testing.T) {
		db := MustExtDB(t)
		_, err := db.SaveGitHubSettings(ctx, db.Keys, "root", store.GitHubSettingsInput{BaseURL: "api.github.com"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "base_url" {
			t.Fatalf("err = %v, want a base_url field error", err)
		}
	})
	t.Run("ErrTokenSpaces", func(t *testing.T) {
		db := MustExtDB(t)
		_, err := db.SaveGitHubSettings(ctx, db.Keys, "root", store.GitHubSettingsInput{Token: "ghp a b"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "token" {
			t.Fatalf("err = %v, want a token field error", err)
		}
	})
}

// mustReadDB reads the database file and its WAL.
func mustReadDB(tb testing.TB, path string) []byte {
	tb.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
