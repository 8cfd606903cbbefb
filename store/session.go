package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 30 * 24 * time.Hour

// ErrNoSession means a session token is unknown, expired or ended.
var ErrNoSession = plugboard.Errorf(plugboard.EUNAUTHORIZED, "Your session has ended; please sign in again.")

// CreateSession starts a session for the user and returns its secret token
// (only its hash is stored).
func (db *DB) CreateSession(ctx context.Context, userID int64) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := hex.EncodeToString(raw)
	now := db.Now()
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashToken(token), userID, unixNano(now), unixNano(now.Add(SessionTTL)))
	return token, err
}

// FindSessionUser returns the user signed in with the token, or ErrNoSession.
func (db *DB) FindSessionUser(ctx context.Context, token string) (*User, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT u.id, u.username, u.role, u.created_at, u.password_changed_at, u.password_hash
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
		hashToken(token), unixNano(db.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	return u, err
}

// DeleteSession ends the session with the token (signing out).
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?`,
		hashToken(token), unixNano(db.Now()))
	return err
}

// deleteUserSessions ends every session of a user.
func deleteUserSessions(ctx context.Context, tx *sql.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
