package store

import (
	"context"
	"database/sql"
	"fmt"
)

// AuditPermissions is the audit action of a change to who may install or
// debug plugins.
const AuditPermissions = "permission.update"

// Permission says who may do something: everyone, admins, or no one.
type Permission string

// Permissions' values.
const (
	PermEveryone Permission = "everyone"
	PermAdmins   Permission = "admins"
	PermNobody   Permission = "nobody"
)

// PermissionValues lists the values in the order the settings show them.
var PermissionValues = []Permission{PermEveryone, PermAdmins, PermNobody}

// Valid reports whether p is one of the values.
func (p Permission) Valid() bool {
	return p == PermEveryone || p == PermAdmins || p == PermNobody
}

// Allows reports whether a user of role r may act. No one means no one:
// not even the owner.
func (p Permission) Allows(r Role) bool {
	switch p {
	case PermEveryone:
		return r.Valid()
	case PermAdmins:
		return r.AtLeast(RoleAdmin)
	}
	return false
}

// Label words the value for people.
func (p Permission) Label() string {
	switch p {
	case PermEveryone:
		return "Everyone"
	case PermNobody:
		return "No one"
	}
	return "Admins"
}

// Permissions are who may install (upload, install, upgrade, uninstall)
// and who may debug plugins. Both default to admins.
type Permissions struct {
	Install Permission
	Debug   Permission
}

// DefaultPermissions are the permissions when none were set.
var DefaultPermissions = Permissions{Install: PermAdmins, Debug: PermAdmins}

const (
	settingInstallPermission = "permission.install"
	settingDebugPermission   = "permission.debug"
)

// FindPermissions returns who may install and debug plugins.
func (db *DB) FindPermissions(ctx context.Context) (Permissions, error) {
	p := DefaultPermissions
	for key, dst := range map[string]*Permission{settingInstallPermission: &p.Install, settingDebugPermission: &p.Debug} {
		v, ok, err := db.Setting(ctx, key)
		if err != nil {
			return DefaultPermissions, err
		}
		if ok && Permission(v).Valid() {
			*dst = Permission(v)
		}
	}
	return p, nil
}

// SetPermissions changes who may install and debug plugins, recording who
// did. Errors are *FieldError on install or debug.
func (db *DB) SetPermissions(ctx context.Context, actor string, p Permissions) error {
	if !p.Install.Valid() {
		return &FieldError{"install", fmt.Sprintf("Unknown value %q: choose everyone, admins or nobody.", p.Install)}
	}
	if !p.Debug.Valid() {
		return &FieldError{"debug", fmt.Sprintf("Unknown value %q: choose everyone, admins or nobody.", p.Debug)}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := setSetting(ctx, tx, settingInstallPermission, string(p.Install)); err != nil {
			return err
		}
		if err := setSetting(ctx, tx, settingDebugPermission, string(p.Debug)); err != nil {
			return err
		}
		detail := fmt.Sprintf("install: %s; debug: %s", p.Install.Label(), p.Debug.Label())
		return db.audit(ctx, tx, actor, AuditPermissions, "plugin permissions", detail)
	})
}
