package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// MustOpen opens a fresh database in a temporary directory, with a clock the
// test can move and the cheapest bcrypt cost.
func MustOpen(tb testing.TB) (*store.DB, *time.Time) {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	db.HashCost = bcrypt.MinCost
	return db, &now
}

// MustCreateUser adds a user or fails the test.
func MustCreateUser(tb testing.TB, db *store.DB, name string, role store.Role) *store.User {
	tb.Helper()
	u, err := db.CreateUser(context.Background(), store.NewUser{Username: name, Password: "password-" + name, Role: role})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func fieldOf(err error) string {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestOpen(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		names, err := db.Migrations(context.Background())
		if err != nil || !slices.Contains(names, "001_init.sql") {
			t.Fatalf("migrations = %v, %v", names, err)
		}
	})
	t.Run("OKReopenKeepsData", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "plugboard.db")
		ctx := context.Background()
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.HashCost = bcrypt.MinCost
		if _, err := db.CreateOwner(ctx, "root", "correct horse"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n, err := db.CountUsers(ctx); n != 1 || err != nil {
			t.Fatalf("CountUsers after reopen = %d, %v", n, err)
		}
	})
	t.Run("OKPrivateFiles", func(t *testing.T) {
		// Password hashes, sessions and sealed secrets: the owner's only,
		// new or left 0644 by an older version.
		path := filepath.Join(t.TempDir(), "plugboard.db")
		for _, existing := range []bool{false, true} {
			if existing {
				for _, p := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
				}
			}
			db, err := store.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			db.HashCost = bcrypt.MinCost
			if _, err := db.CreateUser(context.Background(), store.NewUser{Username: fmt.Sprint("u", existing), Password: "password-u", Role: store.RoleMember}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("existing %v: %s: %v, %v; want mode 600", existing, filepath.Base(p), fi.Mode(), err)
				}
			}
			db.Close()
		}
	})
	t.Run("ErrNotADatabase", func(t *testing.T) {
		if _, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "missing", "x.db")); err == nil {
			t.Fatal("Open in a missing directory succeeded")
		}
	})
}

func TestCreateOwner(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		u, err := db.CreateOwner(ctx, "root", "correct horse")
		if err != nil || u.Role != store.RoleOwner {
			t.Fatalf("CreateOwner = %+v, %v", u, err)
		}
	})
	t.Run("ErrAlreadySetUp", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustCreateUser(t, db, "alice", store.RoleMember)
		_, err := db.CreateOwner(ctx, "root", "correct horse")
		if plugboard.ErrorCode(err) != plugboard.ECONFLICT {
			t.Fatalf("second owner: %v, want conflict", err)
		}
	})
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, username, password string
		role                     store.Role
		field                    string
	}{
		{"ErrUsernameRequired", "", "password1", store.RoleMember, "username"},
		{"ErrUsernameInvalid", "Bob Smith", "password1", store.RoleMember, "username"},
		{"ErrPasswordTooShort", "bob", "short", store.RoleMember, "password"},
		{"ErrPasswordTooLong", "bob", strings.Repeat("x", 73), store.RoleMember, "password"},
		{"ErrRoleInvalid", "bob", "password1", "root", "role"},
		{"ErrUsernameTaken", "alice", "password1", store.RoleMember, "username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := MustOpen(t)
			MustCreateUser(t, db, "alice", store.RoleAdmin)
			_, err := db.CreateUser(ctx, store.NewUser{Username: tc.username, Password: tc.password, Role: tc.role})
			if fieldOf(err) != tc.field || plugboard.ErrorCode(err) != plugboard.EINVALID {
				t.Fatalf("err = %v (field %q, code %s), want field %q", err, fieldOf(err), plugboard.ErrorCode(err), tc.field)
			}
			if n, _ := db.CountUsers(ctx); n != 1 {
				t.Fatalf("%d users after a rejected create, want 1", n)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		u := MustCreateUser(t, db, "bob.smith", store.RoleMember)
		got, err := db.FindUserByUsername(ctx, "bob.smith")
		if err != nil || got.ID != u.ID || got.Role != store.RoleMember {
			t.Fatalf("FindUserByUsername = %+v, %v", got, err)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	MustCreateUser(t, db, "alice", store.RoleAdmin)
	t.Run("OK", func(t *testing.T) {
		u, err := db.Authenticate(ctx, "alice", "password-alice")
		if err != nil || u.Username != "alice" {
			t.Fatalf("Authenticate = %+v, %v", u, err)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		if _, err := db.Authenticate(ctx, "alice", "nope-nope"); err != store.ErrBadCredentials {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		if _, err := db.Authenticate(ctx, "mallory", "password-alice"); err != store.ErrBadCredentials {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		u := MustCreateUser(t, db, "alice", store.RoleAdmin)
		tok, err := db.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindSessionUser(ctx, tok)
		if err != nil || got.ID != u.ID {
			t.Fatalf("FindSessionUser = %+v, %v", got, err)
		}
	})
	t.Run("ErrAfterLogout", func(t *testing.T) {
		db, _ := MustOpen(t)
		u := MustCreateUser(t, db, "alice", store.RoleAdmin)
		tok, _ := db.CreateSession(ctx, u.ID)
		if err := db.DeleteSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindSessionUser(ctx, tok); err != store.ErrNoSession {
			t.Fatalf("after logout: %v", err)
		}
	})
	t.Run("ErrAfterPasswordChange", func(t *testing.T) {
		db, _ := MustOpen(t)
		u := MustCreateUser(t, db, "alice", store.RoleAdmin)
		tok, _ := db.CreateSession(ctx, u.ID)
		if err := db.ChangePassword(ctx, u.ID, "password-alice", "a new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindSessionUser(ctx, tok); err != store.ErrNoSession {
			t.Fatalf("after password change: %v", err)
		}
		if _, err := db.Authenticate(ctx, "alice", "a new password"); err != nil {
			t.Fatalf("new password refused: %v", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		db, now := MustOpen(t)
		u := MustCreateUser(t, db, "alice", store.RoleAdmin)
		tok, _ := db.CreateSession(ctx, u.ID)
		*now = now.Add(store.SessionTTL + time.Second)
		if _, err := db.FindSessionUser(ctx, tok); err != store.ErrNoSession {
			t.Fatalf("expired session: %v", err)
		}
	})
	t.Run("ErrUserDeleted", func(t *testing.T) {
		db, _ := MustOpen(t)
		owner := MustCreateUser(t, db, "root", store.RoleOwner)
		u := MustCreateUser(t, db, "alice", store.RoleMember)
		tok, _ := db.CreateSession(ctx, u.ID)
		if err := db.DeleteUser(ctx, owner, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindSessionUser(ctx, tok); err != store.ErrNoSession {
			t.Fatalf("deleted user's session: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	u := MustCreateUser(t, db, "alice", store.RoleAdmin)
	t.Run("ErrCurrentWrong", func(t *testing.T) {
		if err := db.ChangePassword(ctx, u.ID, "wrong-one", "a new password"); fieldOf(err) != "current" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNewTooShort", func(t *testing.T) {
		if err := db.ChangePassword(ctx, u.ID, "password-alice", "short"); fieldOf(err) != "new" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestManageUsers(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	owner := MustCreateUser(t, db, "root", store.RoleOwner)
	admin := MustCreateUser(t, db, "alice", store.RoleAdmin)
	member := MustCreateUser(t, db, "bob", store.RoleMember)
	t.Run("OKAdminPromotesMember", func(t *testing.T) {
		if err := db.UpdateUserRole(ctx, admin, member.ID, store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		got, _ := db.FindUserByID(ctx, member.ID)
		if got.Role != store.RoleAdmin {
			t.Fatalf("role = %s", got.Role)
		}
		db.UpdateUserRole(ctx, admin, member.ID, store.RoleMember)
	})
	t.Run("ErrMemberCannotManage", func(t *testing.T) {
		if err := db.DeleteUser(ctx, member, admin.ID); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrAdminCannotDemoteOwner", func(t *testing.T) {
		if err := db.UpdateUserRole(ctx, admin, owner.ID, store.RoleMember); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrAdminCannotRemoveOwner", func(t *testing.T) {
		if err := db.DeleteUser(ctx, admin, owner.ID); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrCannotRemoveSelf", func(t *testing.T) {
		if err := db.DeleteUser(ctx, owner, owner.ID); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrCannotMakeOwner", func(t *testing.T) {
		if err := db.UpdateUserRole(ctx, owner, admin.ID, store.RoleOwner); fieldOf(err) != "role" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("OKOwnerRemovesAdmin", func(t *testing.T) {
		if err := db.DeleteUser(ctx, owner, admin.ID); err != nil {
			t.Fatal(err)
		}
		users, _ := db.FindUsers(ctx)
		if len(users) != 2 || users[0].Role != store.RoleOwner {
			t.Fatalf("users = %v", users)
		}
	})
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	if _, ok, err := db.Setting(ctx, "x"); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	db.SetSetting(ctx, "x", "1")
	db.SetSetting(ctx, "x", "2")
	if v, ok, err := db.Setting(ctx, "x"); v != "2" || !ok || err != nil {
		t.Fatalf("Setting = %q %v %v", v, ok, err)
	}
}
