package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon/errs"
)

// Sign-in throttling: after MaxFailedLogins failures for one username, or
// from one IP address, within LoginWindow, sign-ins are refused until the
// oldest of those failures leaves the window.
const (
	MaxFailedLogins = 5
	LoginWindow     = 15 * time.Minute
)

// LoginAttempt is one sign-in attempt, kept for throttling.
type LoginAttempt struct {
	Username string
	IP       string
	OK       bool
}

// RecordLoginAttempt stores an attempt. A success clears the username's
// failures, and attempts older than the window are dropped.
func (db *DB) RecordLoginAttempt(ctx context.Context, a LoginAttempt) error {
	now := db.Now()
	if _, err := db.write.ExecContext(ctx, `DELETE FROM login_attempts WHERE created_at < ?`, unixNano(now.Add(-LoginWindow))); err != nil {
		return err
	}
	if a.OK {
		_, err := db.write.ExecContext(ctx, `DELETE FROM login_attempts WHERE username = ?`, normalizeUsername(a.Username))
		return err
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO login_attempts (username, ip, ok, created_at) VALUES (?, ?, 0, ?)`,
		normalizeUsername(a.Username), a.IP, unixNano(now))
	return err
}

// CheckLoginAllowed returns an errs.Forbidden error saying how long to wait
// when the username or IP address has too many recent failures.
func (db *DB) CheckLoginAllowed(ctx context.Context, username, ip string) error {
	now := db.Now()
	since := unixNano(now.Add(-LoginWindow))
	for _, by := range []struct{ column, value string }{{"username", normalizeUsername(username)}, {"ip", ip}} {
		var n int
		var oldest *int64
		err := db.read.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*), MIN(created_at) FROM (
			SELECT created_at FROM login_attempts WHERE %s = ? AND ok = 0 AND created_at >= ?
			ORDER BY created_at DESC LIMIT ?)`, by.column), by.value, since, MaxFailedLogins).Scan(&n, &oldest)
		if err != nil {
			return err
		}
		if n >= MaxFailedLogins && oldest != nil {
			wait := fromUnixNano(*oldest).Add(LoginWindow).Sub(now)
			return errs.Errorf(errs.Forbidden, "Too many failed sign-ins; try again in %d minutes.", minutes(wait))
		}
	}
	return nil
}

// minutes rounds a wait up to whole minutes, at least 1.
func minutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}

func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
