package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store/secret"
)

// Limits of an API-based extension's fields (Dify's: key at least 5
// characters, endpoint at most 255).
const (
	MaxExtensionNameLen     = 64
	MaxExtensionEndpointLen = 255
	MinExtensionKeyLen      = 5
	MaxExtensionKeyLen      = 1024
)

// Sealer encrypts secrets at rest; *secret.Keyring is one.
type Sealer interface {
	Seal(plaintext []byte, aad string) ([]byte, error)
	Open(ciphertext []byte, aad string) ([]byte, error)
}

// Extension is an API-based extension: an HTTP endpoint apps call for
// external data and moderation, with the API key it expects.
type Extension struct {
	ID        string
	Name      string
	Endpoint  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// MaskedKey is the API key for display ("ab******yz").
	MaskedKey string
	// KeyErr says why the stored key could not be decrypted; then the
	// extension cannot be called until someone enters the key again.
	KeyErr error

	apiKey string
}

// APIKey returns the decrypted API key, for calling the endpoint only.
// Never show it: display MaskedKey.
func (e *Extension) APIKey() string { return e.apiKey }

// ExtensionInput is what creating or updating an extension takes. APIKey
// is the key in clear.
type ExtensionInput struct {
	Name     string
	Endpoint string
	APIKey   string
}

// Validate checks the fields' presence and lengths; the endpoint's scheme
// and reachability are the caller's to check (it pings it). Errors are
// *FieldError naming the field: name, endpoint or api_key.
func (in ExtensionInput) Validate() error {
	switch n := utf8.RuneCountInString(in.Name); {
	case strings.TrimSpace(in.Name) == "":
		return &FieldError{"name", "Name is required."}
	case n > MaxExtensionNameLen:
		return &FieldError{"name", fmt.Sprintf("Name must be at most %d characters (it has %d).", MaxExtensionNameLen, n)}
	}
	switch {
	case in.Endpoint == "":
		return &FieldError{"endpoint", "Endpoint is required."}
	case len(in.Endpoint) > MaxExtensionEndpointLen:
		return &FieldError{"endpoint", fmt.Sprintf("Endpoint must be at most %d characters.", MaxExtensionEndpointLen)}
	}
	switch n := utf8.RuneCountInString(in.APIKey); {
	case in.APIKey == "":
		return &FieldError{"api_key", "API key is required."}
	case n < MinExtensionKeyLen:
		return &FieldError{"api_key", fmt.Sprintf("API key must be at least %d characters (it has %d).", MinExtensionKeyLen, n)}
	case n > MaxExtensionKeyLen:
		return &FieldError{"api_key", fmt.Sprintf("API key must be at most %d characters.", MaxExtensionKeyLen)}
	}
	return nil
}

// extensionKeyAAD binds a sealed key to its extension.
func extensionKeyAAD(id string) string { return "api_extension:" + id + ":api_key" }

// CheckExtension validates in for the extension id ("" for a new one),
// including that no other extension has the name, without writing.
func (db *DB) CheckExtension(ctx context.Context, id string, in ExtensionInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	return checkExtensionName(ctx, db.read, id, in.Name)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkExtensionName fails when another extension has the name (ignoring case).
func checkExtensionName(ctx context.Context, q querier, id, name string) error {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_extensions WHERE name = ? AND id != ?`, name, id).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return &FieldError{"name", "An extension named " + name + " exists already."}
	}
	return nil
}

// CreateExtension validates in, seals its key and adds the extension,
// recording in the audit log that actor (a username) did.
func (db *DB) CreateExtension(ctx context.Context, keys Sealer, actor string, in ExtensionInput) (*Extension, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	id := newExtensionID()
	sealed, err := keys.Seal([]byte(in.APIKey), extensionKeyAAD(id))
	if err != nil {
		return nil, err
	}
	now := db.Now().UTC()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkExtensionName(ctx, tx, id, in.Name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_extensions (id, name, endpoint, api_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id, in.Name, in.Endpoint, sealed, unixNano(now), unixNano(now))
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditExtensionCreate, extensionTarget(in.Name), "endpoint "+in.Endpoint)
	})
	if err != nil {
		return nil, err
	}
	return newExtension(id, in, now, now), nil
}

// UpdateExtension validates in, seals its key and replaces the
// extension's fields, recording what changed in the audit log.
func (db *DB) UpdateExtension(ctx context.Context, keys Sealer, actor, id string, in ExtensionInput) (*Extension, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	sealed, err := keys.Seal([]byte(in.APIKey), extensionKeyAAD(id))
	if err != nil {
		return nil, err
	}
	now := db.Now().UTC()
	var created int64
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanExtension(tx.QueryRowContext(ctx, `SELECT id, name, endpoint, api_key, created_at, updated_at
			FROM api_extensions WHERE id = ?`, id), keys)
		if err != nil {
			return notFoundExtension(err, id)
		}
		created = unixNano(old.CreatedAt)
		if err := checkExtensionName(ctx, tx, id, in.Name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_extensions SET name = ?, endpoint = ?, api_key = ?, updated_at = ?
			WHERE id = ?`, in.Name, in.Endpoint, sealed, unixNano(now), id)
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditExtensionUpdate, extensionTarget(old.Name), extensionChanges(old, in))
	})
	if err != nil {
		return nil, err
	}
	return newExtension(id, in, fromUnixNano(created), now), nil
}

// DeleteExtension removes an extension, recording it in the audit log, and
// returns what it was (key not decrypted).
func (db *DB) DeleteExtension(ctx context.Context, actor, id string) (*Extension, error) {
	var e Extension
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM api_extensions WHERE id = ? RETURNING name, endpoint`, id).Scan(&e.Name, &e.Endpoint)
		if err != nil {
			return notFoundExtension(err, id)
		}
		return db.audit(ctx, tx, actor, AuditExtensionDelete, extensionTarget(e.Name), "endpoint "+e.Endpoint)
	})
	if err != nil {
		return nil, err
	}
	e.ID = id
	return &e, nil
}

// FindExtensionByID returns an extension with its key decrypted. A key
// that cannot be decrypted is reported in KeyErr, not as an error, so the
// extension can still be shown and its key entered again.
func (db *DB) FindExtensionByID(ctx context.Context, keys Sealer, id string) (*Extension, error) {
	row := db.read.QueryRowContext(ctx, `SELECT id, name, endpoint, api_key, created_at, updated_at
		FROM api_extensions WHERE id = ?`, id)
	e, err := scanExtension(row, keys)
	return e, notFoundExtension(err, id)
}

// FindExtensions lists the extensions by name, keys decrypted as in
// FindExtensionByID.
func (db *DB) FindExtensions(ctx context.Context, keys Sealer) ([]*Extension, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, endpoint, api_key, created_at, updated_at
		FROM api_extensions ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*Extension
	for rows.Next() {
		e, err := scanExtension(rows, keys)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
	}
	return list, rows.Err()
}

// scanExtension reads one row and opens its key.
func scanExtension(row interface{ Scan(...any) error }, keys Sealer) (*Extension, error) {
	var e Extension
	var sealed []byte
	var created, updated int64
	if err := row.Scan(&e.ID, &e.Name, &e.Endpoint, &sealed, &created, &updated); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	key, err := keys.Open(sealed, extensionKeyAAD(e.ID))
	if err != nil {
		e.KeyErr = plugboard.Errorf(plugboard.EINTERNAL, "The stored API key of extension %s cannot be decrypted (%v); enter the key again.", e.Name, err)
		e.MaskedKey = "(cannot be decrypted)"
		return &e, nil
	}
	e.apiKey, e.MaskedKey = string(key), secret.Mask(string(key))
	return &e, nil
}

// extensionTarget names an extension in the audit log.
func extensionTarget(name string) string { return "extension " + name }

// extensionChanges says in words what an update changes, never the key.
func extensionChanges(old *Extension, in ExtensionInput) string {
	var ch []string
	if old.Name != in.Name {
		ch = append(ch, "renamed to "+in.Name)
	}
	if old.Endpoint != in.Endpoint {
		ch = append(ch, "endpoint "+old.Endpoint+" → "+in.Endpoint)
	}
	if old.KeyErr != nil || old.apiKey != in.APIKey {
		ch = append(ch, "API key replaced")
	}
	if len(ch) == 0 {
		return "saved unchanged"
	}
	return strings.Join(ch, "; ")
}

func newExtension(id string, in ExtensionInput, created, updated time.Time) *Extension {
	return &Extension{ID: id, Name: in.Name, Endpoint: in.Endpoint, CreatedAt: created, UpdatedAt: updated,
		MaskedKey: secret.Mask(in.APIKey), apiKey: in.APIKey}
}

// notFoundExtension turns sql.ErrNoRows into a not_found error.
func notFoundExtension(err error, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return plugboard.Errorf(plugboard.ENOTFOUND, "There is no extension %q.", id)
	}
	return err
}

// newExtensionID returns a random identifier (32 hex digits).
func newExtensionID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
