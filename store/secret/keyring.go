package secret

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// wrapAAD binds a wrapped data key to its purpose.
const wrapAAD = "plugboard data key"

// wrappedPrefix starts the stored form "v1.<check>.<base64 wrapped key>".
const wrappedPrefix = "v1"

// ErrWrongKey is returned (wrapped) by Open and Rotate when the master key
// is not the one the data key was wrapped with.
var ErrWrongKey = errors.New("the master key does not match the one this data was encrypted with")

// Open returns the keyring for the database behind store. env is the value
// of PLUGBOARD_SECRET_KEY ("" when unset, in which case DATA/master.key is
// read, or created with mode 0600 when the database holds no data key yet).
// The first Open generates the data key; later ones check the master key
// against the stored check value and refuse a wrong one.
func Open(ctx context.Context, dataDir, env string, store KeyStore) (*Keyring, error) {
	wrapped, ok, err := store.WrappedDataKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the wrapped data key: %w", err)
	}
	master, src, err := loadMaster(dataDir, env, !ok)
	if err != nil {
		return nil, err
	}
	if ok {
		dataKey, err := unwrap(wrapped, master, src)
		if err != nil {
			return nil, err
		}
		return newKeyring(dataKey, src)
	}
	return create(ctx, store, master, src)
}

// create generates, wraps and stores a new data key.
func create(ctx context.Context, store KeyStore, master []byte, src Source) (*Keyring, error) {
	dataKey := make([]byte, KeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	wrapped, err := wrap(dataKey, master)
	if err != nil {
		return nil, err
	}
	if err := store.SwapWrappedDataKey(ctx, "", wrapped); err != nil {
		return nil, fmt.Errorf("store the new data key: %w", err)
	}
	return newKeyring(dataKey, src)
}

func newKeyring(dataKey []byte, src Source) (*Keyring, error) {
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead, dataKey: dataKey, source: src}, nil
}

// loadMaster reads the master key from env or the key file; create allows
// creating the key file when it is missing.
func loadMaster(dataDir, env string, create bool) ([]byte, Source, error) {
	if env != "" {
		k, err := ParseMasterKey(env, EnvVar)
		if err != nil {
			return nil, Source{}, err
		}
		return k, Source{Env: true, Fingerprint: fingerprint(k)}, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	k, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, Source{}, fmt.Errorf("the database holds secrets, but the master key file %s is missing and %s is not set: restore the key file (or set %s) — without it the stored secrets cannot be decrypted", path, EnvVar, EnvVar)
		}
		k, err = createKeyFile(path)
	}
	if err != nil {
		return nil, Source{}, err
	}
	return k, Source{Path: path, Fingerprint: fingerprint(k)}, nil
}

// readKeyFile reads a key file, refusing one others can read.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("the master key file %s has mode %04o, so other users can read it; make it private with: chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMasterKey(string(b), "the master key file "+path)
}

// createKeyFile writes a new random master key with mode 0600; it fails if
// the file appeared meanwhile.
func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	enc := NewMasterKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the master key file: %w", err)
	}
	_, err = f.WriteString(enc + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write the master key file: %w", err)
	}
	return ParseMasterKey(enc, path)
}

// wrap encrypts the data key under master, prefixed with the master key's
// check value.
func wrap(dataKey, master []byte) (string, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return "", err
	}
	ct, err := seal(aead, dataKey, wrapAAD)
	if err != nil {
		return "", err
	}
	return wrappedPrefix + "." + fingerprint(master) + "." + base64.StdEncoding.EncodeToString(ct), nil
}

// unwrap checks master against the stored check value and decrypts the
// data key.
func unwrap(wrapped string, master []byte, src Source) ([]byte, error) {
	parts := strings.Split(wrapped, ".")
	if len(parts) != 3 || parts[0] != wrappedPrefix {
		return nil, fmt.Errorf("the stored data key is damaged (unrecognised format); secrets cannot be decrypted")
	}
	if parts[1] != fingerprint(master) {
		return nil, fmt.Errorf("%w (in use: %s; the data was encrypted with the key of fingerprint %s). Start with the original key, from the key file or %s", ErrWrongKey, src, parts[1], EnvVar)
	}
	ct, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("the stored data key is damaged (not base64); secrets cannot be decrypted")
	}
	aead, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	dataKey, err := open(aead, ct, wrapAAD)
	if err != nil {
		return nil, fmt.Errorf("%w (in use: %s): the stored data key does not decrypt", ErrWrongKey, src)
	}
	return dataKey, nil
}
