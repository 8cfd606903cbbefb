package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store/secret"
)

// Credential limits (Dify's: names up to 30 characters, 100 per provider).
const (
	MaxCredentialName         = 30
	MaxCredentialsPerProvider = 100
)

// Credential is one named credential of a plugin's tool provider, as shown:
// secret fields only masked.
type Credential struct {
	ID        int64
	PluginID  string // author/name
	Provider  string
	Name      string
	IsDefault bool
	// Values holds the non-secret fields (string, or bool for booleans).
	Values map[string]any
	// Masked holds the secret fields, masked with secret.Mask.
	Masked    map[string]string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	// TestedAt is when the last test ran (zero if never), TestOK and
	// TestMessage its result.
	TestedAt    time.Time
	TestOK      bool
	TestMessage string
	// Problem says why a stored secret cannot be decrypted ("" when fine).
	Problem string
}

// Target names the credential in the audit log.
func (c *Credential) Target() string {
	return c.PluginID + "/" + c.Provider + ": " + c.Name
}

// CredentialInput is what CreateCredential and UpdateCredential store.
type CredentialInput struct {
	PluginID string
	Provider string
	Name     string // "" picks "API KEY n"
	// Values are the non-secret fields, Secrets the secret ones in plain
	// text (encrypted before they reach the database).
	Values  map[string]any
	Secrets map[string]string
	// Accepted records that the plugin has just accepted these fields: the
	// credential is saved as tested and passed, now. Otherwise a saved
	// credential counts as not tested.
	Accepted bool
}

// CredentialFilter selects credentials; empty fields match all.
type CredentialFilter struct {
	PluginID string
	Provider string
}

// Credentials is the credential store: the database and the keyring that
// seals their secrets.
type Credentials struct {
	db   *DB
	keys *secret.Keyring
}

// Credentials returns the credential store using keys for secrets.
func (db *DB) Credentials(keys *secret.Keyring) *Credentials {
	return &Credentials{db: db, keys: keys}
}

// credentialColumns is the SELECT list scanCredential reads.
const credentialColumns = `id, plugin_id, provider, name, is_default, plain_values, sealed_values,
	created_by, created_at, updated_at, tested_at, test_ok, test_message`

// credentialRow is a credentials row before its secrets are opened.
type credentialRow struct {
	Credential
	sealed map[string]string
}

func scanCredential(s scanner) (*credentialRow, error) {
	var r credentialRow
	var plain, sealed string
	var created, updated, tested int64
	err := s.Scan(&r.ID, &r.PluginID, &r.Provider, &r.Name, &r.IsDefault, &plain, &sealed,
		&r.CreatedBy, &created, &updated, &tested, &r.TestOK, &r.TestMessage)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	if tested != 0 {
		r.TestedAt = fromUnixNano(tested)
	}
	if err := json.Unmarshal([]byte(plain), &r.Values); err != nil {
		r.Problem = fmt.Sprintf("credential %d: its stored values are damaged (%v)", r.ID, err)
	}
	if err := json.Unmarshal([]byte(sealed), &r.sealed); err != nil {
		r.Problem = fmt.Sprintf("credential %d: its stored secrets are damaged (%v)", r.ID, err)
	}
	return &r, nil
}

// credentialAAD binds a sealed field to its credential and field name.
func credentialAAD(id int64, field string) string {
	return fmt.Sprintf("credential:%d:%s", id, field)
}

// openSecrets decrypts the row's secrets. An error names the credential and
// field that cannot be decrypted.
func (cs *Credentials) openSecrets(r *credentialRow) (map[string]string, error) {
	out, field, err := openFields(cs.keys, r.sealed, func(f string) string { return credentialAAD(r.ID, f) })
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINTERNAL, "credential %q (%d): the stored secret %q cannot be decrypted: %v", r.Name, r.ID, field, err)
	}
	return out, nil
}

// sealFields seals each secret bound to aad(field), as the JSON text of a
// sealed_values column. Every table of secrets (tool credentials, model
// credentials) seals its fields with it, one by one, so that a field's
// ciphertext cannot be moved to another row or field.
func sealFields(keys *secret.Keyring, secrets map[string]string, aad func(field string) string) (string, error) {
	sealed := make(map[string]string, len(secrets))
	for field, v := range secrets {
		ct, err := keys.SealString(v, aad(field))
		if err != nil {
			return "", err
		}
		sealed[field] = ct
	}
	return jsonText(sealed)
}

// openFields decrypts fields sealed by sealFields; on failure it returns
// the field that cannot be decrypted.
func openFields(keys *secret.Keyring, sealed map[string]string, aad func(field string) string) (map[string]string, string, error) {
	out := make(map[string]string, len(sealed))
	for _, field := range sortedKeys(sealed) {
		pt, err := keys.OpenString(sealed[field], aad(field))
		if err != nil {
			return nil, field, err
		}
		out[field] = pt
	}
	return out, "", nil
}

// shown returns the credential with its secrets masked, or with Problem set
// when they cannot be decrypted.
func (cs *Credentials) shown(r *credentialRow) *Credential {
	c := r.Credential
	plain, err := cs.openSecrets(r)
	c.Masked, c.Problem = maskFields(r.sealed, plain, err)
	return &c
}

// maskFields is how a record's secret fields are shown: each masked, or,
// when they could not be opened (err), each as stars, with err's message
// as the record's problem.
func maskFields(sealed, plain map[string]string, err error) (masked map[string]string, problem string) {
	masked = map[string]string{}
	if err != nil {
		for f := range sealed {
			masked[f] = "********"
		}
		return masked, plugboard.ErrorMessage(err)
	}
	for f, v := range plain {
		masked[f] = secret.Mask(v)
	}
	return masked, ""
}

// FindCredentials lists credentials, default first then oldest first, with
// secrets masked. A credential whose secret cannot be decrypted is listed
// with Problem set rather than failing the list.
//
// One provider's list (PluginID and Provider set) is kept in memory until
// a credential is written: every tool call reads it.
func (cs *Credentials) FindCredentials(ctx context.Context, f CredentialFilter) ([]*Credential, error) {
	one := f.PluginID != "" && f.Provider != ""
	k := credsOf{cs.keys, f}
	if list, ok := cs.db.creds.get(k); one && ok {
		return copyCredentials(list), nil
	}
	gen := cs.db.creds.generation()
	list, err := cs.findCredentials(ctx, f)
	if one && err == nil {
		cs.db.creds.put(k, copyCredentials(list), gen)
	}
	return list, err
}

// credsOf is what a cached credential list was read for: the keyring
// shows its secrets' problems.
type credsOf struct {
	keys *secret.Keyring
	f    CredentialFilter
}

// copyCredentials copies a list so that no caller changes another's.
func copyCredentials(list []*Credential) []*Credential {
	out := make([]*Credential, len(list))
	for i, c := range list {
		cp := *c
		cp.Values, cp.Masked = maps.Clone(c.Values), maps.Clone(c.Masked)
		out[i] = &cp
	}
	return out
}

func (cs *Credentials) findCredentials(ctx context.Context, f CredentialFilter) ([]*Credential, error) {
	st, err := cs.db.readStmts.get(ctx, `SELECT `+credentialColumns+` FROM credentials
		WHERE (? = '' OR plugin_id = ?) AND (? = '' OR provider = ?)
		ORDER BY plugin_id, provider, is_default DESC, created_at, id`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, f.PluginID, f.PluginID, f.Provider, f.Provider)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*Credential
	for rows.Next() {
		r, err := scanCredential(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, cs.shown(r))
	}
	return list, rows.Err()
}

// findRow reads one credential row.
func (cs *Credentials) findRow(ctx context.Context, q queryer, id int64) (*credentialRow, error) {
	r, err := scanCredential(q.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no credential %d.", id)
	}
	return r, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// FindCredentialByID returns one credential, secrets masked.
func (cs *Credentials) FindCredentialByID(ctx context.Context, id int64) (*Credential, error) {
	r, err := cs.findRow(ctx, cs.db.read, id)
	if err != nil {
		return nil, err
	}
	return cs.shown(r), nil
}

// DecryptedCredential returns a credential's fields with secrets in plain
// text, for validating or invoking. Keep the result in memory only.
func (cs *Credentials) DecryptedCredential(ctx context.Context, id int64) (map[string]any, error) {
	values, _, err := cs.OpenCredential(ctx, id)
	return values, err
}

// OpenCredential is DecryptedCredential that also returns the plain values
// of the secret fields alone, so that what a tool sends back can be
// redacted of them. Keep both in memory only.
func (cs *Credentials) OpenCredential(ctx context.Context, id int64) (values map[string]any, secrets []string, err error) {
	r, err := cs.findRow(ctx, cs.db.read, id)
	if err != nil {
		return nil, nil, err
	}
	if r.Problem != "" {
		return nil, nil, plugboard.Errorf(plugboard.EINTERNAL, "%s", r.Problem)
	}
	plain, err := cs.openSecrets(r)
	if err != nil {
		return nil, nil, err
	}
	values = make(map[string]any, len(r.Values)+len(plain))
	for k, v := range r.Values {
		values[k] = v
	}
	for _, k := range sortedKeys(plain) {
		values[k] = plain[k]
		secrets = append(secrets, plain[k])
	}
	return values, secrets, nil
}

// DefaultCredential returns the provider's default credential, or a
// not_found error when it has none.
func (cs *Credentials) DefaultCredential(ctx context.Context, pluginID, provider string) (*Credential, error) {
	list, err := cs.FindCredentials(ctx, CredentialFilter{PluginID: pluginID, Provider: provider})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s/%s has no credential yet.", pluginID, provider)
	}
	return list[0], nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateName checks a credential name's length.
func validateCredentialName(name string) error {
	switch {
	case strings.TrimSpace(name) != name:
		return &FieldError{"name", "Name must not start or end with spaces."}
	case len([]rune(name)) > MaxCredentialName:
		return &FieldError{"name", fmt.Sprintf("Name must be at most %d characters.", MaxCredentialName)}
	}
	return nil
}
