package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Rotate re-wraps the data key under newMaster and stores it in one
// transaction. Ciphertexts are untouched (the data key is unchanged), so a
// server running with this keyring keeps working; after Rotate only
// newMaster opens the database. It returns the new key's Source (without
// Env or Path, which the caller knows).
func (k *Keyring) Rotate(ctx context.Context, store KeyStore, newMaster []byte) (Source, error) {
	prev, ok, err := store.WrappedDataKey(ctx)
	if err != nil {
		return Source{}, fmt.Errorf("read the wrapped data key: %w", err)
	}
	if !ok {
		return Source{}, errors.New("the database holds no data key to rotate")
	}
	if !strings.HasPrefix(prev, wrappedPrefix+"."+k.source.Fingerprint+".") {
		return Source{}, fmt.Errorf("%w: the data key was re-wrapped since this keyring was opened (in use: %s)", ErrWrongKey, k.source)
	}
	next, err := wrap(k.dataKey, newMaster)
	if err != nil {
		return Source{}, err
	}
	if err := store.SwapWrappedDataKey(ctx, prev, next); err != nil {
		return Source{}, fmt.Errorf("store the re-wrapped data key: %w", err)
	}
	return Source{Fingerprint: fingerprint(newMaster)}, nil
}

// RotateKeyFile replaces DATA/master.key with a new random key:
//
//  1. the current key opens the data key (a wrong key stops here);
//  2. the old file is copied to master.key.bak and the new key is written
//     to master.key.new (both 0600, synced);
//  3. the data key is re-wrapped under the new key in one transaction;
//  4. master.key.new is renamed over master.key and the backup removed.
//
// If step 3 fails, master.key.new is removed and nothing changed. If step 4
// fails, the database already needs the new key: the error says where it is.
func RotateKeyFile(ctx context.Context, dataDir string, store KeyStore) (Source, error) {
	kr, err := Open(ctx, dataDir, "", store)
	if err != nil {
		return Source{}, err
	}
	path := filepath.Join(dataDir, KeyFileName)
	backup, pending := path+".bak", path+".new"
	if err := copyPrivate(path, backup); err != nil {
		return Source{}, fmt.Errorf("back up the key file: %w", err)
	}
	enc := NewMasterKey()
	newKey, _ := ParseMasterKey(enc, "new key")
	if err := writePrivate(pending, []byte(enc+"\n")); err != nil {
		return Source{}, fmt.Errorf("write the new key file: %w", err)
	}
	src, err := kr.Rotate(ctx, store, newKey)
	if err != nil {
		os.Remove(pending)
		os.Remove(backup)
		return Source{}, err
	}
	if err := os.Rename(pending, path); err != nil {
		return Source{}, fmt.Errorf("the database now needs the new master key, which is in %s (the old one is in %s), but it could not be moved into place: %w; rename it to %s by hand", pending, backup, err, path)
	}
	syncDir(dataDir)
	os.Remove(backup)
	src.Path = path
	return src, nil
}

// copyPrivate copies src to dst with mode 0600.
func copyPrivate(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writePrivate(dst, b)
}

// writePrivate writes a file with mode 0600 and syncs it.
func writePrivate(path string, b []byte) error {
	os.Remove(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir makes a rename in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
