package state

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
)

// Package is an uploaded package.
type Package struct {
	UniqueIdentifier string
	PluginID         string
	Version          string
	Checksum         string
	Declaration      []byte // the manifest as JSON
	Signed           bool
	CreatedAt        time.Time
}

// CreatePackage records an upload; uploading the same package again keeps the
// first row and only refreshes its upload time.
func (d *DB) CreatePackage(ctx context.Context, p *Package) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return d.createPackage(ctx, tx, p) })
}

func (d *DB) createPackage(ctx context.Context, tx *sql.Tx, p *Package) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO packages
		(unique_identifier, plugin_id, version, checksum, declaration, signed, created_at, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (unique_identifier) DO UPDATE SET uploaded_at = excluded.uploaded_at`,
		p.UniqueIdentifier, p.PluginID, p.Version, p.Checksum, string(p.Declaration), p.Signed, d.now(), d.now())
	return err
}

// FindPackage returns an uploaded package, or plugboard.ENOTFOUND.
func (d *DB) FindPackage(ctx context.Context, uid string) (*Package, error) {
	var p Package
	var decl string
	var created int64
	err := d.db.QueryRowContext(ctx, `SELECT unique_identifier, plugin_id, version, checksum, declaration, signed, created_at
		FROM packages WHERE unique_identifier = ?`, uid).
		Scan(&p.UniqueIdentifier, &p.PluginID, &p.Version, &p.Checksum, &decl, &p.Signed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin package %s has not been uploaded", uid)
	}
	if err != nil {
		return nil, err
	}
	p.Declaration, p.CreatedAt = []byte(decl), fromUnix(created)
	return &p, nil
}

// deletePackageIfUnused deletes the package row when no installation of any
// tenant refers to it, and reports whether it did.
func (d *DB) deletePackageIfUnused(ctx context.Context, tx *sql.Tx, uid string) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM packages WHERE unique_identifier = ?
		AND NOT EXISTS (SELECT 1 FROM installations WHERE unique_identifier = ?)`, uid, uid)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// FindUnusedPackages lists the identifiers of packages last uploaded before
// cutoff that no installation refers to.
func (d *DB) FindUnusedPackages(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT unique_identifier FROM packages p WHERE uploaded_at < ?
		AND NOT EXISTS (SELECT 1 FROM installations i WHERE i.unique_identifier = p.unique_identifier)
		ORDER BY unique_identifier`, cutoff.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			return nil, err
		}
		out = append(out, uid)
	}
	return out, rows.Err()
}

// DeletePackageIfUnused deletes the package's row unless an installation
// refers to it, and reports whether it did.
func (d *DB) DeletePackageIfUnused(ctx context.Context, uid string) (deleted bool, err error) {
	err = d.tx(ctx, func(tx *sql.Tx) error {
		deleted, err = d.deletePackageIfUnused(ctx, tx, uid)
		return err
	})
	return deleted, err
}
