package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
)

// Audit actions of the tool gateway's API keys.
const (
	AuditAPIKeyCreate = "api_key.create"
	AuditAPIKeyRevoke = "api_key.revoke"
	// AuditGatewayCall is one tool call through the gateway (MCP or REST),
	// refused or made.
	AuditGatewayCall = "gateway.call"
)

// API key limits.
const (
	MaxAPIKeyName = 64
	// APIKeyPrefix starts every key's secret, so that a leaked one is
	// recognised (by people and secret scanners).
	APIKeyPrefix = "pbk_"
	// DefaultRatePerMinute is a key's rate limit when none is given.
	DefaultRatePerMinute = 600
	// MaxRatePerMinute is the highest rate limit a key may have.
	MaxRatePerMinute = 1_000_000
)

// APIKey is a key of the tool gateway, as stored: never its secret.
type APIKey struct {
	ID   int64
	Name string
	// Prefix is the secret's first characters, to tell keys apart.
	Prefix string
	Scope  APIKeyScope
	// RatePerMinute bounds the key's requests (a burst of as many as a
	// tenth of a minute's).
	RatePerMinute int
	CreatedBy     string
	CreatedAt     time.Time
	ExpiresAt     time.Time // zero: never
	LastUsedAt    time.Time // zero: never used
	RevokedAt     time.Time // zero: not revoked
}

// Target names the key in the audit log.
func (k *APIKey) Target() string { return "key " + k.Name + " (" + k.Prefix + "…)" }

// Usable reports why the key may not be used at now ("" when it may).
func (k *APIKey) Usable(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return "expired"
	}
	return ""
}

// APIKeyScope is what a key may call: tool providers, each with the
// stored credential its calls use and, per tool, the fixed values of its
// form parameters.
type APIKeyScope struct {
	Providers []ScopeProvider `json:"providers"`
}

// ScopeProvider is one tool provider a key may call.
type ScopeProvider struct {
	PluginID string `json:"plugin_id"` // author/name
	Provider string `json:"provider"`
	// Tools are the tools the key may call; none: all of the provider's.
	Tools []string `json:"tools,omitempty"`
	// CredentialID is the stored credential calls use; 0: the provider's
	// default.
	CredentialID int64 `json:"credential_id,omitempty"`
	// Fixed are the values of form parameters, by tool and parameter.
	Fixed map[string]map[string]any `json:"fixed,omitempty"`
}

// Allows reports whether the provider's scope includes tool.
func (p *ScopeProvider) Allows(tool string) bool {
	if len(p.Tools) == 0 {
		return true
	}
	for _, t := range p.Tools {
		if t == tool {
			return true
		}
	}
	return false
}

// Find is the scope of a provider, or nil.
func (s APIKeyScope) Find(pluginID, provider string) *ScopeProvider {
	for i := range s.Providers {
		if p := &s.Providers[i]; p.PluginID == pluginID && p.Provider == provider {
			return p
		}
	}
	return nil
}

// APIKeyInput is what CreateAPIKey stores.
type APIKeyInput struct {
	Name          string
	Scope         APIKeyScope
	RatePerMinute int       // 0: DefaultRatePerMinute
	ExpiresAt     time.Time // zero: never
}

// HashAPIKey is how a key's secret is stored and looked up.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newAPIKeySecret is a fresh key: the prefix and 32 random bytes.
func newAPIKeySecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreateAPIKey stores a new key and returns it with its secret, which is
// not kept and cannot be shown again. Errors are *FieldError on name,
// scope, rate or expires.
func (db *DB) CreateAPIKey(ctx context.Context, actor string, in APIKeyInput) (*APIKey, string, error) {
	k, err := db.checkAPIKey(in)
	if err != nil {
		return nil, "", err
	}
	secret := newAPIKeySecret()
	k.Prefix, k.CreatedBy, k.CreatedAt = secret[:len(APIKeyPrefix)+6], actor, db.Now().UTC()
	scope, err := json.Marshal(k.Scope)
	if err != nil {
		return nil, "", err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (name, prefix, secret_hash, scope, rate_per_minute, created_by,
			created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.Name, k.Prefix, HashAPIKey(secret), string(scope),
			k.RatePerMinute, actor, unixNano(k.CreatedAt), optNano(k.ExpiresAt))
		if err != nil {
			return err
		}
		k.ID, _ = res.LastInsertId()
		return db.audit(ctx, tx, actor, AuditAPIKeyCreate, k.Target(), k.describe())
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// checkAPIKey checks the input and returns the key it makes.
func (db *DB) checkAPIKey(in APIKeyInput) (*APIKey, error) {
	name := strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, &FieldError{"name", "Name is required."}
	case n > MaxAPIKeyName:
		return nil, &FieldError{"name", fmt.Sprintf("Name must be at most %d characters.", MaxAPIKeyName)}
	}
	if len(in.Scope.Providers) == 0 {
		return nil, &FieldError{"scope", "Pick at least one tool provider the key may call."}
	}
	rate := in.RatePerMinute
	switch {
	case rate == 0:
		rate = DefaultRatePerMinute
	case rate < 0 || rate > MaxRatePerMinute:
		return nil, &FieldError{"rate", fmt.Sprintf("The rate limit must be between 1 and %d requests a minute.", MaxRatePerMinute)}
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(db.Now()) {
		return nil, &FieldError{"expires", "The expiry must be in the future."}
	}
	return &APIKey{Name: name, Scope: in.Scope, RatePerMinute: rate, ExpiresAt: in.ExpiresAt.UTC()}, nil
}

// describe is what the audit log says of a new key: its scope and limits.
func (k *APIKey) describe() string {
	var parts []string
	for _, p := range k.Scope.Providers {
		s := p.PluginID + "/" + p.Provider
		if len(p.Tools) > 0 {
			s += " (" + strings.Join(p.Tools, ", ") + ")"
		}
		if p.CredentialID != 0 {
			s += fmt.Sprintf(" with credential %d", p.CredentialID)
		}
		parts = append(parts, s)
	}
	d := "may call " + strings.Join(parts, "; ") + fmt.Sprintf("; %d requests a minute", k.RatePerMinute)
	if !k.ExpiresAt.IsZero() {
		d += "; expires " + k.ExpiresAt.Format(time.RFC3339)
	}
	return d
}

const apiKeyColumns = `id, name, prefix, scope, rate_per_minute, created_by, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(s scanner) (*APIKey, error) {
	var k APIKey
	var scope string
	var created, expires, used, revoked int64
	if err := s.Scan(&k.ID, &k.Name, &k.Prefix, &scope, &k.RatePerMinute, &k.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromUnixNano(created), fromOptNano(expires), fromOptNano(used), fromOptNano(revoked)
	if err := json.Unmarshal([]byte(scope), &k.Scope); err != nil {
		return nil, fmt.Errorf("api key %d: scope: %w", k.ID, err)
	}
	return &k, nil
}

// FindAPIKeys lists the keys, newest first, revoked ones too.
func (db *DB) FindAPIKeys(ctx context.Context) ([]*APIKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, k)
	}
	return list, rows.Err()
}

// FindAPIKeyByHash is the key whose secret hashes to hash
// (HashAPIKey); none is plugboard.ENOTFOUND. Revoked and expired keys are
// returned too: the caller checks Usable.
// Keys found are kept in memory until a key is revoked (a key's name,
// scope, rate and expiry never change), so a request costs no database
// read; the key's LastUsedAt is as it was when it was read, and its Scope
// is shared with every other caller's copy: not to be changed.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	if k, ok := db.keys.get(hash); ok {
		kept := *k
		return &kept, nil
	}
	gen := db.keys.generation()
	row, err := db.readRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE secret_hash = ?`, hash)
	if err != nil {
		return nil, err
	}
	k, err := scanAPIKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "no such API key")
	}
	if err == nil {
		kept := *k
		db.keys.put(hash, &kept, gen)
	}
	return k, err
}

// FindAPIKey is the key with id; none is plugboard.ENOTFOUND.
func (db *DB) FindAPIKey(ctx context.Context, id int64) (*APIKey, error) {
	k, err := scanAPIKey(db.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No API key %d.", id)
	}
	return k, err
}

// RevokeAPIKey revokes a key from now on; revoking a revoked key changes
// nothing.
func (db *DB) RevokeAPIKey(ctx context.Context, actor string, id int64) (*APIKey, error) {
	k, err := db.FindAPIKey(ctx, id)
	if err != nil || !k.RevokedAt.IsZero() {
		return k, err
	}
	k.RevokedAt = db.Now().UTC()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, unixNano(k.RevokedAt), id); err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditAPIKeyRevoke, k.Target(), "")
	})
	db.keys.changed() // after the commit: a key read from now on is revoked
	return k, err
}

// GatewayUse is what the gateway records of its keys' work at once: when
// each key was last used, and an audit entry per call.
type GatewayUse struct {
	LastUsed map[int64]time.Time
	Entries  []*AuditEntry
}

// The statements of the gateway's usage writes (see hotWrites).
const (
	sqlKeyLastUsed = `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE id = ?`
	sqlInsertAudit = `INSERT INTO audit_log (at, actor, action, target, detail, address, outcome)
				VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// RecordGatewayUse records the keys' last use and the calls' audit
// entries (each with its own time, address and outcome) in one
// transaction.
func (db *DB) RecordGatewayUse(ctx context.Context, u GatewayUse) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for id, at := range u.LastUsed {
			if _, err := db.txExec(ctx, tx, sqlKeyLastUsed, unixNano(at), id); err != nil {
				return err
			}
		}
		for _, e := range u.Entries {
			if _, err := db.txExec(ctx, tx, sqlInsertAudit, unixNano(e.At), e.Actor, e.Action, e.Target, e.Detail, e.Address, e.Outcome); err != nil {
				return err
			}
		}
		return nil
	})
}

// optNano is t in Unix nanoseconds, 0 for the zero time.
func optNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return unixNano(t)
}

func fromOptNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromUnixNano(n)
}
