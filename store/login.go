package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// Sign-in throttling is per account and client address: each (username,
// address) pair may fail FreeLoginFailures times in a row; after that it
// waits LoginBackoff before its next attempt, the wait doubling with each
// further failure up to MaxLoginBackoff. Other pairs are not affected, so
// a correct password from an address without failures always gets in (no
// attacker can lock the owner out), and a success clears its pair. IPv6
// addresses count per /64, within which one host can pick any address.
const (
	FreeLoginFailures = 5
	LoginBackoff      = time.Minute
	MaxLoginBackoff   = 15 * time.Minute
	// LoginMemory is how long a pair's failures are kept after its latest.
	LoginMemory = 24 * time.Hour
)

// BeginLoginAttempt admits a sign-in attempt as username from address, or
// returns an plugboard.EFORBIDDEN error saying how long to wait. An admitted
// attempt counts as a failure until ClearLoginFailures is called for its
// success; checking and counting are one transaction, so parallel guesses
// cannot all slip in before the first is counted.
func (db *DB) BeginLoginAttempt(ctx context.Context, username, address string) error {
	now := db.Now()
	user, addr := normalizeUsername(username), throttleAddress(address)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE last_at < ?`, unixNano(now.Add(-LoginMemory))); err != nil {
			return err
		}
		var failures, last int64
		err := tx.QueryRowContext(ctx, `SELECT failures, last_at FROM login_failures WHERE username = ? AND address = ?`,
			user, addr).Scan(&failures, &last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if wait := fromUnixNano(last).Add(loginBackoff(failures)).Sub(now); wait > 0 {
			return plugboard.Errorf(plugboard.EFORBIDDEN, "Too many failed sign-ins to this account from your address; try again in %s.", waitText(wait))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_failures (username, address, failures, last_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (username, address) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at`,
			user, addr, unixNano(now))
		return err
	})
}

// ClearLoginFailures forgets the failures of username from address, after
// a successful sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, username, address string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ? AND address = ?`,
		normalizeUsername(username), throttleAddress(address))
	return err
}

// loginBackoff is the wait after a pair's failures-th failure in a row.
func loginBackoff(failures int64) time.Duration {
	n := failures - FreeLoginFailures
	switch {
	case n < 0:
		return 0
	case n >= 10:
		return MaxLoginBackoff
	}
	return min(LoginBackoff<<n, MaxLoginBackoff)
}

// throttleAddress is the address an attempt is counted under: an IPv4
// address (IPv4-mapped ones unmapped), an IPv6 address's /64, or the text
// as given when it is no address.
func throttleAddress(address string) string {
	a, err := netip.ParseAddr(address)
	if err != nil {
		return address
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// waitText words a wait, rounded up: "1 minute", "15 minutes".
func waitText(d time.Duration) string {
	n := max(1, int(math.Ceil(d.Minutes())))
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
