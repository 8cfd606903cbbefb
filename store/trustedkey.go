package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/signature"
)

// Audit actions of signing keys and the signature policy.
const (
	AuditSigningKeyAdd    = "signing_key.add"
	AuditSigningKeyDelete = "signing_key.delete"
	AuditSignaturePolicy  = "signature.policy"
)

// MaxTrustedKeyName is the longest name of a trusted key.
const MaxTrustedKeyName = 64

// TrustedKey is a public key admins trust to sign plugin packages.
type TrustedKey struct {
	ID          int64
	Name        string
	Fingerprint string
	PEM         string
	AddedBy     string
	CreatedAt   time.Time
}

// Key returns the key for signature.Verify.
func (k *TrustedKey) Key() (signature.Key, error) {
	pub, err := signature.ParsePublicKey([]byte(k.PEM))
	if err != nil {
		return signature.Key{}, fmt.Errorf("trusted key %q: %w", k.Name, err)
	}
	return signature.Key{Name: k.Name, Public: pub}, nil
}

// CreateTrustedKey trusts a PEM public key under name, recording who added
// it. Errors are *FieldError on name or pem.
func (db *DB) CreateTrustedKey(ctx context.Context, actor, name, pem string) (*TrustedKey, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, &FieldError{"name", "Name is required."}
	case n > MaxTrustedKeyName:
		return nil, &FieldError{"name", fmt.Sprintf("Name must be at most %d characters.", MaxTrustedKeyName)}
	}
	pub, err := signature.ParsePublicKey([]byte(strings.TrimSpace(pem)))
	if err != nil {
		return nil, &FieldError{"pem", plugboard.ErrorMessage(err)}
	}
	k := &TrustedKey{Name: name, Fingerprint: signature.Fingerprint(pub), PEM: string(signature.EncodePublicKey(pub)),
		AddedBy: actor, CreatedAt: db.Now().UTC()}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkKeyUnique(ctx, tx, k); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO trusted_keys (name, fingerprint, public_key, added_by, created_at)
			VALUES (?, ?, ?, ?, ?)`, k.Name, k.Fingerprint, k.PEM, k.AddedBy, unixNano(k.CreatedAt))
		if err != nil {
			return err
		}
		k.ID, _ = res.LastInsertId()
		return db.audit(ctx, tx, actor, AuditSigningKeyAdd, k.Name, "fingerprint "+k.Fingerprint)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// checkKeyUnique refuses a name or a key already trusted.
func checkKeyUnique(ctx context.Context, tx *sql.Tx, k *TrustedKey) error {
	var other string
	err := tx.QueryRowContext(ctx, `SELECT name FROM trusted_keys WHERE fingerprint = ?`, k.Fingerprint).Scan(&other)
	if err == nil {
		return &FieldError{"pem", fmt.Sprintf("This key is already trusted as %q.", other)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = tx.QueryRowContext(ctx, `SELECT name FROM trusted_keys WHERE name = ?`, k.Name).Scan(&other)
	if err == nil {
		return &FieldError{"name", fmt.Sprintf("A key named %q is already trusted.", other)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// FindTrustedKeys lists the trusted keys by name.
func (db *DB) FindTrustedKeys(ctx context.Context) ([]*TrustedKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, fingerprint, public_key, added_by, created_at
		FROM trusted_keys ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*TrustedKey
	for rows.Next() {
		var k TrustedKey
		var at int64
		if err := rows.Scan(&k.ID, &k.Name, &k.Fingerprint, &k.PEM, &k.AddedBy, &at); err != nil {
			return nil, err
		}
		k.CreatedAt = fromUnixNano(at)
		list = append(list, &k)
	}
	return list, rows.Err()
}

// TrustedSignatureKeys returns the trusted keys ready for
// signature.Verify.
func (db *DB) TrustedSignatureKeys(ctx context.Context) ([]signature.Key, error) {
	list, err := db.FindTrustedKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]signature.Key, 0, len(list))
	for _, k := range list {
		sk, err := k.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, sk)
	}
	return keys, nil
}

// DeleteTrustedKey stops trusting a key. Packages it signed then verify as
// untrusted.
func (db *DB) DeleteTrustedKey(ctx context.Context, actor string, id int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var name, fp string
		err := tx.QueryRowContext(ctx, `SELECT name, fingerprint FROM trusted_keys WHERE id = ?`, id).Scan(&name, &fp)
		if errors.Is(err, sql.ErrNoRows) {
			return plugboard.Errorf(plugboard.ENOTFOUND, "No trusted key %d: it may have been deleted already.", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM trusted_keys WHERE id = ?`, id); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditSigningKeyDelete, name, "fingerprint "+fp)
	})
}
