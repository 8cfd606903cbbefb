package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

var keyScope = store.APIKeyScope{Providers: []store.ScopeProvider{{PluginID: "plugboard/gotools", Provider: "gotools",
	Tools: []string{"stream_text"}, CredentialID: 3, Fixed: map[string]map[string]any{"stream_text": {"delay_ms": 0.0}}}}}

func TestAPIKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugboard.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := &time.Time{}
	*now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return *now }
	ctx := context.Background()
	k, secret, err := db.CreateAPIKey(ctx, "root", store.APIKeyInput{Name: " agent ", Scope: keyScope, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OKSecretShownOnceStoredHashed", func(t *testing.T) {
		if !strings.HasPrefix(secret, store.APIKeyPrefix) || len(secret) < 40 || !strings.HasPrefix(secret, k.Prefix) {
			t.Fatalf("secret %q prefix %q", secret, k.Prefix)
		}
		found, err := db.FindAPIKeyByHash(ctx, store.HashAPIKey(secret))
		if err != nil || found.ID != k.ID || found.Name != "agent" || found.RatePerMinute != store.DefaultRatePerMinute ||
			found.Scope.Providers[0].Fixed["stream_text"]["delay_ms"] != 0.0 || found.Scope.Providers[0].CredentialID != 3 {
			t.Fatalf("%+v %v", found, err)
		}
	})
	t.Run("OKSecretNotInTheDatabaseFiles", func(t *testing.T) {
		for _, f := range []string{path, path + "-wal"} {
			data, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if strings.Contains(string(data), secret) || strings.Contains(string(data), secret[len(k.Prefix):]) {
				t.Fatalf("%s holds the secret", f)
			}
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		if _, err := db.FindAPIKeyByHash(ctx, store.HashAPIKey(secret+"x")); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKUsableUntilExpiry", func(t *testing.T) {
		if why := k.Usable(*now); why != "" {
			t.Fatalf("usable: %q", why)
		}
		if why := k.Usable(now.Add(time.Hour)); why != "expired" {
			t.Fatalf("after expiry: %q", why)
		}
	})
	t.Run("OKRevokedAndAudited", func(t *testing.T) {
		// Looked up (and so kept in memory) before the revocation.
		if before, err := db.FindAPIKeyByHash(ctx, store.HashAPIKey(secret)); err != nil || before.Usable(*now) != "" {
			t.Fatalf("%+v %v", before, err)
		}
		if _, err := db.RevokeAPIKey(ctx, "root", k.ID); err != nil {
			t.Fatal(err)
		}
		found, _ := db.FindAPIKey(ctx, k.ID)
		if found.Usable(*now) != "revoked" {
			t.Fatalf("%+v", found)
		}
		byHash, err := db.FindAPIKeyByHash(ctx, store.HashAPIKey(secret))
		if err != nil || byHash.Usable(*now) != "revoked" {
			t.Fatalf("the lookup by secret after the revocation: %+v %v", byHash, err)
		}
		list, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{})
		var actions []string
		for _, e := range list {
			actions = append(actions, e.Action)
			if strings.Contains(e.Detail, secret) || strings.Contains(e.Target, secret) {
				t.Fatal("the secret is in the audit log")
			}
		}
		if strings.Join(actions, ",") != store.AuditAPIKeyRevoke+","+store.AuditAPIKeyCreate {
			t.Fatalf("audit %v", actions)
		}
	})
	t.Run("OKUseRecordedInOneBatch", func(t *testing.T) {
		at := now.Add(time.Minute)
		err := db.RecordGatewayUse(ctx, store.GatewayUse{LastUsed: map[int64]time.Time{k.ID: at},
			Entries: []*store.AuditEntry{{At: at, Actor: "key:agent", Action: store.AuditGatewayCall, Target: "t", Outcome: store.OutcomeRefused}}})
		if err != nil {
			t.Fatal(err)
		}
		found, _ := db.FindAPIKey(ctx, k.ID)
		list, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditGatewayCall})
		if !found.LastUsedAt.Equal(at) || len(list) != 1 || list[0].Outcome != store.OutcomeRefused {
			t.Fatalf("last used %v, entries %+v", found.LastUsedAt, list)
		}
	})
	for name, tc := range map[string]struct {
		in    store.APIKeyInput
		field string
	}{
		"ErrNameRequired": {store.APIKeyInput{Scope: keyScope}, "name"},
		"ErrNameTooLong":  {store.APIKeyInput{Name: strings.Repeat("n", 65), Scope: keyScope}, "name"},
		"ErrNoScope":      {store.APIKeyInput{Name: "x"}, "scope"},
		"ErrRate":         {store.APIKeyInput{Name: "x", Scope: keyScope, RatePerMinute: -1}, "rate"},
		"ErrExpiryInPast": {store.APIKeyInput{Name: "x", Scope: keyScope, ExpiresAt: now.Add(-time.Second)}, "expires"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := db.CreateAPIKey(ctx, "root", tc.in)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err %v, want one on %s", err, tc.field)
			}
		})
	}
}

// TestAPIKeyRevokedWhileLookedUp revokes keys while other goroutines look
// them up: once RevokeAPIKey has returned, no lookup finds the key usable.
func TestAPIKeyRevokedWhileLookedUp(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "plugboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for i := range 20 {
		k, secret, err := db.CreateAPIKey(ctx, "root", store.APIKeyInput{Name: fmt.Sprintf("k%d", i), Scope: keyScope})
		if err != nil {
			t.Fatal(err)
		}
		hash := store.HashAPIKey(secret)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						db.FindAPIKeyByHash(ctx, hash)
					}
				}
			}()
		}
		if _, err := db.RevokeAPIKey(ctx, "root", k.ID); err != nil {
			t.Fatal(err)
		}
		found, err := db.FindAPIKeyByHash(ctx, hash)
		close(stop)
		wg.Wait()
		if err != nil || found.RevokedAt.IsZero() {
			t.Fatalf("key %d found usable after its revocation: %+v %v", i, found, err)
		}
	}
}
