package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// attempt is one failed sign-in attempt: admitted (nil) or throttled.
func attempt(tb testing.TB, db *store.DB, user, addr string) error {
	tb.Helper()
	err := db.BeginLoginAttempt(context.Background(), user, addr)
	if err != nil && plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
		tb.Fatal(err)
	}
	return err
}

// mustFail makes n failed attempts, each admitted.
func mustFail(tb testing.TB, db *store.DB, user, addr string, n int) {
	tb.Helper()
	for i := range n {
		if err := attempt(tb, db, user, addr); err != nil {
			tb.Fatalf("attempt %d of %s from %s refused: %v", i+1, user, addr, err)
		}
	}
}

// wantWait fails unless the next attempt is throttled with that wait.
func wantWait(tb testing.TB, db *store.DB, user, addr, wait string) {
	tb.Helper()
	err := attempt(tb, db, user, addr)
	if err == nil || !strings.HasSuffix(err.Error(), "try again in "+wait+".") {
		tb.Fatalf("%s from %s: err = %v, want a wait of %s", user, addr, err, wait)
	}
}

func TestLoginThrottle(t *testing.T) {
	ctx := context.Background()
	t.Run("OKUnderLimit", func(t *testing.T) {
		db, _ := MustOpen(t)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
	})
	t.Run("ErrBackoffDoubles", func(t *testing.T) {
		db, now := MustOpen(t)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
		wantWait(t, db, "Alice ", "10.0.0.1", "1 minute")
		for _, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
			*now = now.Add(wait - time.Second)
			wantWait(t, db, "alice", "10.0.0.1", "1 minute")
			*now = now.Add(time.Second)
			mustFail(t, db, "alice", "10.0.0.1", 1)
		}
		wantWait(t, db, "alice", "10.0.0.1", "15 minutes")
		msg := db.BeginLoginAttempt(ctx, "alice", "10.0.0.1").Error()
		if msg != "Too many failed sign-ins to this account from your address; try again in 15 minutes." {
			t.Fatalf("message %q", msg)
		}
	})
	t.Run("OKCleanAddressNotLocked", func(t *testing.T) {
		// An attacker's failures at the owner's account from one address
		// leave the owner's own address alone.
		db, _ := MustOpen(t)
		mustFail(t, db, "root", "203.0.113.9", store.FreeLoginFailures)
		wantWait(t, db, "root", "203.0.113.9", "1 minute")
		mustFail(t, db, "root", "198.51.100.7", 1)
		if err := db.ClearLoginFailures(ctx, "root", "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKOtherAccountSameAddress", func(t *testing.T) {
		// One address behind which many people sit: one account's
		// failures do not lock the others.
		db, _ := MustOpen(t)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
		wantWait(t, db, "alice", "10.0.0.1", "1 minute")
		mustFail(t, db, "bob", "10.0.0.1", store.FreeLoginFailures)
	})
	t.Run("OKSuccessClearsPair", func(t *testing.T) {
		db, _ := MustOpen(t)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures-1)
		mustFail(t, db, "alice", "10.0.0.2", store.FreeLoginFailures)
		if err := db.ClearLoginFailures(ctx, "ALICE", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
		wantWait(t, db, "alice", "10.0.0.2", "1 minute") // only its own pair
	})
	t.Run("OKForgottenAfterADay", func(t *testing.T) {
		db, now := MustOpen(t)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
		wantWait(t, db, "alice", "10.0.0.1", "1 minute")
		*now = now.Add(store.LoginMemory + time.Second)
		mustFail(t, db, "alice", "10.0.0.1", store.FreeLoginFailures)
	})
	t.Run("ErrIPv6CountsPer64", func(t *testing.T) {
		db, _ := MustOpen(t)
		for i := range store.FreeLoginFailures {
			mustFail(t, db, "alice", "2001:db8:0:1::"+string(rune('1'+i)), 1)
		}
		wantWait(t, db, "alice", "2001:db8:0:1:ffff::9", "1 minute")
		mustFail(t, db, "alice", "2001:db8:0:2::1", 1)
		mustFail(t, db, "alice", "::ffff:10.0.0.1", store.FreeLoginFailures)
		wantWait(t, db, "alice", "10.0.0.1", "1 minute") // IPv4-mapped is the IPv4 address
	})
	t.Run("ErrParallelGuessesCounted", func(t *testing.T) {
		// Guesses sent together are counted as they are admitted: no more
		// than the free ones get to try a password.
		db, _ := MustOpen(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted := 0
		for range 4 * store.FreeLoginFailures {
			wg.Go(func() {
				if db.BeginLoginAttempt(ctx, "alice", "10.0.0.1") == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if admitted != store.FreeLoginFailures {
			t.Fatalf("%d parallel attempts admitted, want %d", admitted, store.FreeLoginFailures)
		}
	})
}
