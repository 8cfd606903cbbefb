package secret_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// MustDB opens a fresh database in dir.
func MustDB(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustKeyring opens the keyring of db, with env as PLUGBOARD_SECRET_KEY.
func MustKeyring(tb testing.TB, dir, env string, db *store.DB) *secret.Keyring {
	tb.Helper()
	kr, err := secret.Open(context.Background(), dir, env, db)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	kr := MustKeyring(t, dir, "", MustDB(t, dir))
	t.Run("OK", func(t *testing.T) {
		ct, err := kr.Seal([]byte("demo-key-123"), "credential:1:api_key")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(ct), "demo-key") {
			t.Fatal("ciphertext contains the plaintext")
		}
		pt, err := kr.Open(ct, "credential:1:api_key")
		if err != nil || string(pt) != "demo-key-123" {
			t.Fatalf("Open = %q, %v", pt, err)
		}
	})
	t.Run("OKString", func(t *testing.T) {
		ct, _ := kr.SealString("hello", "x")
		pt, err := kr.OpenString(ct, "x")
		if err != nil || pt != "hello" {
			t.Fatalf("OpenString = %q, %v", pt, err)
		}
	})
	t.Run("ErrOtherRecord", func(t *testing.T) {
		ct, _ := kr.Seal([]byte("s"), "credential:1:api_key")
		if _, err := kr.Open(ct, "credential:2:api_key"); !errors.Is(err, secret.ErrCorrupt) {
			t.Fatalf("Open with another aad = %v, want ErrCorrupt", err)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		ct, _ := kr.Seal([]byte("secret"), "a")
		for name, bad := range map[string][]byte{
			"flipped":   append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^1),
			"truncated": ct[:5],
			"empty":     nil,
			"version":   append([]byte{9}, ct[1:]...),
		} {
			if _, err := kr.Open(bad, "a"); !errors.Is(err, secret.ErrCorrupt) {
				t.Errorf("%s: Open = %v, want ErrCorrupt", name, err)
			}
		}
		if _, err := kr.OpenString("%%%", "a"); !errors.Is(err, secret.ErrCorrupt) {
			t.Errorf("OpenString(not base64) = %v, want ErrCorrupt", err)
		}
	})
}

func TestOpenKeyFile(t *testing.T) {
	ctx := context.Background()
	t.Run("OKCreatedPrivateAndReused", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		kr := MustKeyring(t, dir, "", db)
		fi, err := os.Stat(filepath.Join(dir, secret.KeyFileName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
		}
		ct, _ := kr.Seal([]byte("kept"), "r")
		again := MustKeyring(t, dir, "", db)
		if pt, err := again.Open(ct, "r"); err != nil || string(pt) != "kept" {
			t.Fatalf("reopened keyring Open = %q, %v", pt, err)
		}
	})
	t.Run("ErrLooseMode", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		MustKeyring(t, dir, "", db)
		os.Chmod(filepath.Join(dir, secret.KeyFileName), 0o644)
		_, err := secret.Open(ctx, dir, "", db)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("Open with a 0644 key file = %v, want a chmod hint", err)
		}
	})
	t.Run("ErrKeyFileMissing", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		MustKeyring(t, dir, "", db)
		os.Remove(filepath.Join(dir, secret.KeyFileName))
		_, err := secret.Open(ctx, dir, "", db)
		if err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("Open without the key file = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, secret.KeyFileName)); err == nil {
			t.Fatal("a new key file was created although the database holds a data key")
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		MustKeyring(t, dir, "", db)
		os.WriteFile(filepath.Join(dir, secret.KeyFileName), []byte(secret.NewMasterKey()), 0o600)
		_, err := secret.Open(ctx, dir, "", db)
		if !errors.Is(err, secret.ErrWrongKey) || !strings.Contains(err.Error(), "does not match the one this data was encrypted with") {
			t.Fatalf("Open with another key file = %v, want ErrWrongKey", err)
		}
	})
}

func TestOpenEnv(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		key := secret.NewMasterKey()
		kr := MustKeyring(t, dir, key, MustDB(t, dir))
		if !kr.Source().Env {
			t.Fatal("Source().Env = false")
		}
		if _, err := os.Stat(filepath.Join(dir, secret.KeyFileName)); err == nil {
			t.Fatal("a key file was created although the key came from the environment")
		}
	})
	t.Run("ErrLength", func(t *testing.T) {
		dir := t.TempDir()
		_, err := secret.Open(ctx, dir, "c2hvcnQ=", MustDB(t, dir))
		if err == nil || !strings.Contains(err.Error(), "decodes to 5 bytes") || !strings.Contains(err.Error(), secret.EnvVar) {
			t.Fatalf("Open with a 5-byte key = %v", err)
		}
	})
	t.Run("ErrNotBase64", func(t *testing.T) {
		dir := t.TempDir()
		_, err := secret.Open(ctx, dir, "not base64!", MustDB(t, dir))
		if err == nil || !strings.Contains(err.Error(), "not valid base64") {
			t.Fatalf("Open with a non-base64 key = %v", err)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		MustKeyring(t, dir, secret.NewMasterKey(), db)
		_, err := secret.Open(ctx, dir, secret.NewMasterKey(), db)
		if !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("Open with another env key = %v, want ErrWrongKey", err)
		}
	})
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	t.Run("OKEnv", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		oldKey, newKey := secret.NewMasterKey(), secret.NewMasterKey()
		kr := MustKeyring(t, dir, oldKey, db)
		ct, _ := kr.Seal([]byte("survives"), "r")
		raw, _ := secret.ParseMasterKey(newKey, "new")
		if _, err := kr.Rotate(ctx, db, raw); err != nil {
			t.Fatal(err)
		}
		if pt, err := kr.Open(ct, "r"); err != nil || string(pt) != "survives" {
			t.Fatalf("running keyring after rotate: %q, %v", pt, err)
		}
		reopened := MustKeyring(t, dir, newKey, db)
		if pt, err := reopened.Open(ct, "r"); err != nil || string(pt) != "survives" {
			t.Fatalf("new key: %q, %v", pt, err)
		}
		if _, err := secret.Open(ctx, dir, oldKey, db); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("old key after rotate = %v, want ErrWrongKey", err)
		}
	})
	t.Run("OKKeyFile", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		kr := MustKeyring(t, dir, "", db)
		path := filepath.Join(dir, secret.KeyFileName)
		oldKey, _ := os.ReadFile(path)
		ct, _ := kr.Seal([]byte("survives"), "r")
		src, err := secret.RotateKeyFile(ctx, dir, db)
		if err != nil {
			t.Fatal(err)
		}
		if src.Fingerprint == kr.Source().Fingerprint {
			t.Fatal("fingerprint unchanged after rotate")
		}
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("new key file mode %04o", fi.Mode().Perm())
		}
		for _, leftover := range []string{path + ".bak", path + ".new"} {
			if _, err := os.Stat(leftover); err == nil {
				t.Errorf("%s left behind", leftover)
			}
		}
		if pt, err := MustKeyring(t, dir, "", db).Open(ct, "r"); err != nil || string(pt) != "survives" {
			t.Fatalf("new key file: %q, %v", pt, err)
		}
		if _, err := secret.Open(ctx, dir, strings.TrimSpace(string(oldKey)), db); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("old key after rotate = %v, want ErrWrongKey", err)
		}
	})
	t.Run("ErrStaleKeyring", func(t *testing.T) {
		dir := t.TempDir()
		db := MustDB(t, dir)
		key := secret.NewMasterKey()
		kr := MustKeyring(t, dir, key, db)
		a, _ := secret.ParseMasterKey(secret.NewMasterKey(), "a")
		if _, err := kr.Rotate(ctx, db, a); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Rotate(ctx, db, a); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("second rotate from the old key = %v, want ErrWrongKey", err)
		}
	})
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":             "********",
		"short":        "********",
		"1234567":      "********",
		"12345678":     "12****78",
		"demo-abc-xyz": "de********yz",
	} {
		if got := secret.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if !secret.IsMask("de********yz", "demo-abc-xyz") || secret.IsMask("demo-abc-xyz", "demo-abc-xyz") {
		t.Error("IsMask wrong")
	}
}
