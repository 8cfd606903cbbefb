package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/plugboard/plugboard"
)

// Password length limits (bcrypt reads at most 72 bytes).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// User is a person who signs in to the admin app.
type User struct {
	ID                int64
	Username          string
	Role              Role
	CreatedAt         time.Time
	PasswordChangedAt time.Time
	passwordHash      string
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username string
	Password string
	Role     Role
}

// FieldError is a validation failure of one form field. plugboard.ErrorCode reports it
// as plugboard.EINVALID.
type FieldError struct {
	Field   string // the form field's name, e.g. "username"
	Message string
}

func (e *FieldError) Error() string { return e.Message }

// Unwrap makes plugboard.ErrorCode and plugboard.ErrorMessage work on a FieldError.
func (e *FieldError) Unwrap() error {
	return &plugboard.Error{Code: plugboard.EINVALID, Message: e.Message}
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ValidateUsername checks the username rules: 2–32 characters of lowercase
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidateUsername(name string) error {
	switch {
	case name == "":
		return &FieldError{"username", "Username is required."}
	case !usernameRE.MatchString(name):
		return &FieldError{"username", "Username must be 2–32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit."}
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(field, password string) error {
	switch {
	case password == "":
		return &FieldError{field, "Password is required."}
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return &FieldError{field, "Password must be at least 8 characters."}
	case len(password) > MaxPasswordLen:
		return &FieldError{field, "Password must be at most 72 bytes."}
	}
	return nil
}

func (u NewUser) validate() error {
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	if err := ValidatePassword("password", u.Password); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return &FieldError{"role", "Role must be owner, admin or member."}
	}
	return nil
}

// CreateUser validates and adds a user. Invalid input, a taken username
// included, is a *FieldError naming the field.
func (db *DB) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	nu.Username = strings.TrimSpace(nu.Username)
	if err := nu.validate(); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), db.HashCost)
	if err != nil {
		return nil, err
	}
	var u *User
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		u, err = db.createUser(ctx, tx, nu, string(hash))
		return err
	})
	return u, err
}

// CreateOwner adds the first user, as owner. It fails with plugboard.ECONFLICT when
// any user exists already, so first-run setup can happen only once.
func (db *DB) CreateOwner(ctx context.Context, username, password string) (*User, error) {
	nu := NewUser{Username: strings.TrimSpace(username), Password: password, Role: RoleOwner}
	if err := nu.validate(); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.HashCost)
	if err != nil {
		return nil, err
	}
	var u *User
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return plugboard.Errorf(plugboard.ECONFLICT, "setup is already done: the owner exists")
		}
		u, err = db.createUser(ctx, tx, nu, string(hash))
		return err
	})
	return u, err
}

// createUser inserts a validated user.
func (db *DB) createUser(ctx context.Context, tx *sql.Tx, nu NewUser, hash string) (*User, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE username = ?`, nu.Username).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, &FieldError{"username", "The username " + nu.Username + " is taken."}
	}
	now := db.Now().UTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (username, password_hash, role, created_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?)`, nu.Username, hash, string(nu.Role), unixNano(now), unixNano(now))
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	return &User{ID: id, Username: nu.Username, Role: nu.Role, CreatedAt: now, PasswordChangedAt: now, passwordHash: hash}, nil
}

const userColumns = `id, username, role, created_at, password_changed_at, password_hash`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (*User, error) {
	var u User
	var created, changed int64
	if err := s.Scan(&u.ID, &u.Username, &u.Role, &created, &changed, &u.passwordHash); err != nil {
		return nil, err
	}
	u.CreatedAt, u.PasswordChangedAt = fromUnixNano(created), fromUnixNano(changed)
	return &u, nil
}

// FindUserByID returns the user with the id, or plugboard.ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "no user with id %d", id)
	}
	return u, err
}

// FindUserByUsername returns the user with the username, or plugboard.ENOTFOUND.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "no user named %q", username)
	}
	return u, err
}

// FindUsers returns every user, owner first, then by username.
func (db *DB) FindUsers(ctx context.Context) ([]*User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// CountUsers returns how many users exist (0 before first-run setup).
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}
