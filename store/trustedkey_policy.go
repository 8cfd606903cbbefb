package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plugboard/plugboard"
)

// SignaturePolicy says which packages may be installed, by signature.
type SignaturePolicy string

// Signature policies. A package whose signature is invalid (changed after
// signing) is refused under every one.
const (
	// PolicyAllowUnsigned installs unsigned and untrusted packages too,
	// showing them as such (the default).
	PolicyAllowUnsigned SignaturePolicy = "allow_unsigned"
	// PolicyRequireTrusted installs only packages signed by a trusted key.
	PolicyRequireTrusted SignaturePolicy = "require_trusted"
	// PolicyMarketplaceOnly installs only packages from the marketplace.
	PolicyMarketplaceOnly SignaturePolicy = "marketplace_only"
)

// SignaturePolicies lists the policies in the order the settings show them.
var SignaturePolicies = []SignaturePolicy{PolicyAllowUnsigned, PolicyRequireTrusted, PolicyMarketplaceOnly}

// Valid reports whether p is one of the policies.
func (p SignaturePolicy) Valid() bool {
	for _, q := range SignaturePolicies {
		if p == q {
			return true
		}
	}
	return false
}

// Label words the policy for people.
func (p SignaturePolicy) Label() string {
	switch p {
	case PolicyRequireTrusted:
		return "Require a trusted signature"
	case PolicyMarketplaceOnly:
		return "Marketplace only"
	}
	return "Allow unsigned packages"
}

const settingSignaturePolicy = "signature_policy"

// FindSignaturePolicy returns the policy in force (PolicyAllowUnsigned when
// none was chosen).
func (db *DB) FindSignaturePolicy(ctx context.Context) (SignaturePolicy, error) {
	v, ok, err := db.Setting(ctx, settingSignaturePolicy)
	if err != nil || !ok || !SignaturePolicy(v).Valid() {
		return PolicyAllowUnsigned, err
	}
	return SignaturePolicy(v), nil
}

// SetSignaturePolicy changes the policy, recording who did.
func (db *DB) SetSignaturePolicy(ctx context.Context, actor string, p SignaturePolicy) error {
	if !p.Valid() {
		return &FieldError{"policy", fmt.Sprintf("Unknown signature policy %q.", p)}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := setSetting(ctx, tx, settingSignaturePolicy, string(p)); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditSignaturePolicy, "signature policy", p.Label())
	})
}

// setSetting stores a setting inside tx.
func setSetting(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// PackageVerdict is the signature verdict the app found for one package.
type PackageVerdict struct {
	Status      string // a signature.Status: unsigned, signed, untrusted, invalid
	KeyName     string // the trusted key that signed, when signed
	Fingerprint string
	SignedAt    time.Time // zero when unsigned
	// Source is where the app got the package: package, marketplace or
	// github ("" when not recorded).
	Source string
}

// RecordVerdict remembers a package's verdict by its unique identifier.
func (db *DB) RecordVerdict(ctx context.Context, uid string, v PackageVerdict) error {
	if uid == "" || v.Status == "" {
		return plugboard.Errorf(plugboard.EINVALID, "A verdict needs a package identifier and a status.")
	}
	var signed int64
	if !v.SignedAt.IsZero() {
		signed = unixNano(v.SignedAt)
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO package_verdicts
		(unique_identifier, status, key_name, fingerprint, signed_at, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (unique_identifier) DO UPDATE SET status = excluded.status, key_name = excluded.key_name,
		fingerprint = excluded.fingerprint, signed_at = excluded.signed_at, source = excluded.source,
		recorded_at = excluded.recorded_at`,
		uid, v.Status, v.KeyName, v.Fingerprint, signed, v.Source, unixNano(db.Now()))
	return err
}

// FindVerdicts returns the recorded verdicts of the packages among uids;
// packages never previewed here are absent.
func (db *DB) FindVerdicts(ctx context.Context, uids []string) (map[string]PackageVerdict, error) {
	out := map[string]PackageVerdict{}
	for _, uid := range uids {
		var v PackageVerdict
		var signed int64
		err := db.read.QueryRowContext(ctx, `SELECT status, key_name, fingerprint, signed_at, source FROM package_verdicts
			WHERE unique_identifier = ?`, uid).Scan(&v.Status, &v.KeyName, &v.Fingerprint, &signed, &v.Source)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		if signed != 0 {
			v.SignedAt = fromUnixNano(signed)
		}
		out[uid] = v
	}
	return out, nil
}
