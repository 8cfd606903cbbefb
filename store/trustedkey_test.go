package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
)

// MustPublicPEM makes a 2048-bit key pair and returns its public PEM.
func MustPublicPEM(tb testing.TB) string {
	tb.Helper()
	k, err := signature.GenerateKey(2048)
	if err != nil {
		tb.Fatal(err)
	}
	return string(signature.EncodePublicKey(&k.PublicKey))
}

func TestTrustedKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	pem := MustPublicPEM(t)
	k, err := db.CreateTrustedKey(ctx, "ada", " team ", pem)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		list, err := db.FindTrustedKeys(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %v %v", list, err)
		}
		got := list[0]
		if got.Name != "team" || got.AddedBy != "ada" || got.Fingerprint != k.Fingerprint || got.CreatedAt.IsZero() {
			t.Fatalf("key %+v", got)
		}
		keys, err := db.TrustedSignatureKeys(ctx)
		if err != nil || len(keys) != 1 || signature.Fingerprint(keys[0].Public) != k.Fingerprint {
			t.Fatalf("signature keys %v %v", keys, err)
		}
	})
	t.Run("ErrDuplicateKey", func(t *testing.T) {
		_, err := db.CreateTrustedKey(ctx, "ada", "again", pem)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "pem" || !strings.Contains(fe.Message, `"team"`) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		_, err := db.CreateTrustedKey(ctx, "ada", "TEAM", MustPublicPEM(t))
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrNotPEM", func(t *testing.T) {
		_, err := db.CreateTrustedKey(ctx, "ada", "x", "hello")
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "pem" || !strings.Contains(fe.Message, "not PEM") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrNameRequired", func(t *testing.T) {
		_, err := db.CreateTrustedKey(ctx, "ada", "  ", MustPublicPEM(t))
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("OKDelete", func(t *testing.T) {
		if err := db.DeleteTrustedKey(ctx, "bob", k.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.FindTrustedKeys(ctx); len(list) != 0 {
			t.Fatalf("left %v", list)
		}
		if err := db.DeleteTrustedKey(ctx, "bob", k.ID); err == nil {
			t.Fatal("deleted twice")
		}
		entries, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Actor+" "+e.Action+" "+e.Target)
		}
		want := "bob signing_key.delete team,ada signing_key.add team"
		if strings.Join(actions, ",") != want {
			t.Fatalf("audit %v", actions)
		}
	})
}

func TestSignaturePolicy(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	t.Run("OKDefault", func(t *testing.T) {
		if p, err := db.FindSignaturePolicy(ctx); err != nil || p != store.PolicyAllowUnsigned {
			t.Fatalf("policy %q %v", p, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		if err := db.SetSignaturePolicy(ctx, "ada", store.PolicyRequireTrusted); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.FindSignaturePolicy(ctx); p != store.PolicyRequireTrusted {
			t.Fatalf("policy %q", p)
		}
		entries, _, _ := db.FindAuditEntries(ctx, store.AuditFilter{Action: store.AuditSignaturePolicy})
		if len(entries) != 1 || entries[0].Detail != "Require a trusted signature" {
			t.Fatalf("audit %+v", entries)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		if err := db.SetSignaturePolicy(ctx, "ada", "yolo"); err == nil {
			t.Fatal("set an unknown policy")
		}
	})
}

func TestVerdicts(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	uid := "plugboard/pytools:0.1.0@" + strings.Repeat("a", 64)
	if err := db.RecordVerdict(ctx, uid, store.PackageVerdict{Status: "untrusted"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordVerdict(ctx, uid, store.PackageVerdict{Status: "signed", KeyName: "team", Fingerprint: "ff", Source: "marketplace"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindVerdicts(ctx, []string{uid, "other"})
	if err != nil || len(got) != 1 || got[uid].Status != "signed" || got[uid].KeyName != "team" || got[uid].Source != "marketplace" {
		t.Fatalf("verdicts %+v %v", got, err)
	}
	if err := db.RecordVerdict(ctx, "", store.PackageVerdict{Status: "signed"}); err == nil {
		t.Fatal("recorded a verdict without an identifier")
	}
}

func TestPermissions(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	t.Run("OKDefault", func(t *testing.T) {
		p, err := db.FindPermissions(ctx)
		if err != nil || p != store.DefaultPermissions || p.Install != store.PermAdmins {
			t.Fatalf("permissions %+v %v", p, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		want := store.Permissions{Install: store.PermEveryone, Debug: store.PermNobody}
		if err := db.SetPermissions(ctx, "ada", want); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.FindPermissions(ctx); p != want {
			t.Fatalf("permissions %+v", p)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		err := db.SetPermissions(ctx, "ada", store.Permissions{Install: "root", Debug: store.PermAdmins})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "install" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("Allows", func(t *testing.T) {
		cases := []struct {
			p    store.Permission
			r    store.Role
			want bool
		}{
			{store.PermEveryone, store.RoleMember, true},
			{store.PermAdmins, store.RoleMember, false},
			{store.PermAdmins, store.RoleAdmin, true},
			{store.PermNobody, store.RoleOwner, false},
			{store.PermEveryone, "", false},
		}
		for _, c := range cases {
			if got := c.p.Allows(c.r); got != c.want {
				t.Errorf("%s allows %q: %v", c.p, c.r, got)
			}
		}
	})
}
