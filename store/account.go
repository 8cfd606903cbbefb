package store

import (
	"context"
	"database/sql"

	"golang.org/x/crypto/bcrypt"

	"github.com/plugboard/plugboard"
)

// ErrBadCredentials is the one answer to a wrong username or password, so a
// caller cannot tell which of them was wrong.
var ErrBadCredentials = plugboard.Errorf(plugboard.EUNAUTHORIZED, "Invalid username or password.")

// dummyHash is compared against when the username is unknown, so that an
// unknown user takes as long to refuse as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("plugboard-dummy-password"), bcrypt.DefaultCost)

// Authenticate returns the user whose username and password these are, or
// ErrBadCredentials.
func (db *DB) Authenticate(ctx context.Context, username, password string) (*User, error) {
	u, err := db.FindUserByUsername(ctx, username)
	if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.passwordHash), []byte(password)) != nil {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// ChangePassword sets a user's password after checking the current one, and
// ends every session of the user (the caller signs the user in again).
func (db *DB) ChangePassword(ctx context.Context, id int64, current, next string) error {
	u, err := db.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.passwordHash), []byte(current)) != nil {
		return &FieldError{"current", "The current password is wrong."}
	}
	if err := ValidatePassword("new", next); err != nil {
		return err
	}
	if current == next {
		return &FieldError{"new", "The new password must differ from the current one."}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), db.HashCost)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
			string(hash), unixNano(db.Now()), id); err != nil {
			return err
		}
		return deleteUserSessions(ctx, tx, id)
	})
}

// UpdateUserRole changes another user's role on behalf of actor. Only admins
// and the owner may; the owner's role cannot be changed, nobody changes their
// own role, and nobody is made owner (there is one).
func (db *DB) UpdateUserRole(ctx context.Context, actor *User, id int64, role Role) error {
	if role != RoleAdmin && role != RoleMember {
		return &FieldError{"role", "Role must be admin or member."}
	}
	target, err := db.checkManage(ctx, actor, id, "change the role of")
	if err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, string(role), target.ID)
	return err
}

// DeleteUser removes another user, and their sessions, on behalf of actor,
// under the same rules as UpdateUserRole.
func (db *DB) DeleteUser(ctx context.Context, actor *User, id int64) error {
	target, err := db.checkManage(ctx, actor, id, "remove")
	if err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, target.ID)
	return err
}

// checkManage returns the user actor wants to change, or why actor may not.
func (db *DB) checkManage(ctx context.Context, actor *User, id int64, verb string) (*User, error) {
	if actor == nil || !actor.Role.CanManageUsers() {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "Only the owner and admins can %s users.", verb)
	}
	if actor.ID == id {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "You cannot %s yourself.", verb)
	}
	target, err := db.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if target.Role == RoleOwner {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "You cannot %s the owner.", verb)
	}
	return target, nil
}
