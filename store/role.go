package store

// Role is what a user may do. Roles are ordered: an owner may do everything
// an admin may, and an admin everything a member may.
type Role string

// Roles.
const (
	RoleOwner  Role = "owner"  // the first user; cannot be removed or demoted by others
	RoleAdmin  Role = "admin"  // manages plugins, credentials and users
	RoleMember Role = "member" // uses installed plugins; cannot install, uninstall or see credentials
)

// Roles lists the roles from most to least powerful.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember}

// rank orders the roles; unknown roles rank lowest.
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleAdmin:
		return 2
	case RoleMember:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r is min or a more powerful role.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// CanManagePlugins reports whether the role may install, upgrade and
// uninstall plugins and see or change their credentials.
func (r Role) CanManagePlugins() bool { return r.AtLeast(RoleAdmin) }

// CanManageUsers reports whether the role may add and remove users and
// change their roles.
func (r Role) CanManageUsers() bool { return r.AtLeast(RoleAdmin) }

// Label is the role's name as shown to people.
func (r Role) Label() string {
	switch r {
	case RoleOwner:
		return "Owner"
	case RoleAdmin:
		return "Admin"
	case RoleMember:
		return "Member"
	}
	return string(r)
}
