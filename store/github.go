package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plugboard/plugboard/store/secret"
)

// AuditGitHubSettings is recorded when an admin changes the GitHub settings.
const AuditGitHubSettings = "github.settings"

// DefaultGitHubBaseURL is github.com's REST API.
const DefaultGitHubBaseURL = "https://api.github.com"

// MaxGitHubTokenLen bounds a stored token.
const MaxGitHubTokenLen = 512

// githubTokenAAD binds the sealed token to its place.
const githubTokenAAD = "github_settings:token"

// GitHubSettings is how the app reaches GitHub for release installs.
type GitHubSettings struct {
	BaseURL   string
	UpdatedAt time.Time // zero when never saved
	UpdatedBy string
	// MaskedToken is the token for display ("" when none is set).
	MaskedToken string
	// TokenErr says why the stored token could not be decrypted.
	TokenErr error

	token string
}

// Token returns the decrypted token ("" for none), for requests only.
// Never show it: display MaskedToken.
func (g *GitHubSettings) Token() string { return g.token }

// GitHubSettingsInput is what saving the settings takes. Token is the
// token in clear; the masked form shown on the page keeps the stored token,
// and "" removes it.
type GitHubSettingsInput struct {
	BaseURL string
	Token   string
}

// GitHubSettings returns the settings, with the defaults when never saved.
func (db *DB) GitHubSettings(ctx context.Context, keys Sealer) (*GitHubSettings, error) {
	var g GitHubSettings
	var sealed []byte
	var at int64
	err := db.read.QueryRowContext(ctx, `SELECT base_url, token, updated_at, updated_by FROM github_settings WHERE id = 1`).
		Scan(&g.BaseURL, &sealed, &at, &g.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return &GitHubSettings{BaseURL: DefaultGitHubBaseURL}, nil
	}
	if err != nil {
		return nil, err
	}
	g.UpdatedAt = fromUnixNano(at)
	if len(sealed) > 0 {
		tok, err := keys.Open(sealed, githubTokenAAD)
		if err != nil {
			g.TokenErr = fmt.Errorf("the stored GitHub token cannot be decrypted (was the master key changed?); enter it again")
		}
		g.token = string(tok)
		g.MaskedToken = secret.Mask(g.token)
	}
	return &g, nil
}

// SaveGitHubSettings validates and stores the settings, sealing the token,
// and records the change (never the token) in the audit log.
func (db *DB) SaveGitHubSettings(ctx context.Context, keys Sealer, actor string, in GitHubSettingsInput) (*GitHubSettings, error) {
	in.BaseURL = strings.TrimRight(strings.TrimSpace(in.BaseURL), "/")
	if in.BaseURL == "" {
		in.BaseURL = DefaultGitHubBaseURL
	}
	in.Token = strings.TrimSpace(in.Token)
	if err := validateGitHubInput(in); err != nil {
		return nil, err
	}
	old, err := db.GitHubSettings(ctx, keys)
	if err != nil {
		return nil, err
	}
	token := in.Token
	if old.MaskedToken != "" && old.TokenErr == nil && secret.IsMask(in.Token, old.token) {
		token = old.token // the masked value sent back keeps the token
	}
	var sealed []byte
	if token != "" {
		if sealed, err = keys.Seal([]byte(token), githubTokenAAD); err != nil {
			return nil, err
		}
	}
	now := db.Now().UTC()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO github_settings (id, base_url, token, updated_at, updated_by) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url, token = excluded.token,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`, in.BaseURL, sealed, unixNano(now), actor)
		if err != nil {
			return err
		}
		return db.audit(ctx, tx, actor, AuditGitHubSettings, "GitHub", githubChange(old, in.BaseURL, token))
	})
	if err != nil {
		return nil, err
	}
	return db.GitHubSettings(ctx, keys)
}

// validateGitHubInput checks the fields' form; whether the URL answers is
// the caller's to find out.
func validateGitHubInput(in GitHubSettingsInput) error {
	switch {
	case !strings.HasPrefix(in.BaseURL, "https://") && !strings.HasPrefix(in.BaseURL, "http://"):
		return &FieldError{"base_url", "The API URL must start with https:// (or http://), e.g. https://api.github.com or https://github.example.com/api/v3."}
	case len(in.BaseURL) > 255:
		return &FieldError{"base_url", "The API URL must be at most 255 characters."}
	case len(in.Token) > MaxGitHubTokenLen:
		return &FieldError{"token", fmt.Sprintf("The token must be at most %d characters.", MaxGitHubTokenLen)}
	case strings.ContainsAny(in.Token, " \t\r\n"):
		return &FieldError{"token", "The token must not contain spaces or line breaks."}
	}
	return nil
}

// githubChange words what a save changed, without the token.
func githubChange(old *GitHubSettings, base, token string) string {
	var parts []string
	if old.BaseURL != base {
		parts = append(parts, "API URL "+base)
	}
	switch {
	case token == "" && old.MaskedToken != "":
		parts = append(parts, "token removed")
	case token != "" && token != old.token:
		parts = append(parts, "token replaced")
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, "; ")
}
