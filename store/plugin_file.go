package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
)

// Plugin file lifetimes: a plugin uploads within PluginUploadTTL of asking,
// and the file is served for PluginFileTTL after that.
const (
	PluginUploadTTL = 5 * time.Minute
	PluginFileTTL   = 24 * time.Hour
)

// PluginFile is a file a plugin uploads through a call back: first a
// pending record with an upload token, then, once uploaded, its bytes,
// served to whoever holds its download token.
type PluginFile struct {
	ID            string
	UploadToken   string // set by CreatePluginFile; "" once uploaded
	DownloadToken string // set by CreatePluginFile
	PluginID      string
	UserID        string // the user the plugin was invoked for
	Filename      string
	MIME          string
	Size          int
	Data          []byte // empty until uploaded
	CreatedAt     time.Time
	// UploadExpiresAt ends the upload token, ExpiresAt the download token.
	UploadExpiresAt, ExpiresAt time.Time
}

// CreatePluginFile records a pending upload and gives it its id and
// tokens. Files whose links have expired are removed first.
func (db *DB) CreatePluginFile(ctx context.Context, f *PluginFile) error {
	now := db.Now()
	f.ID, f.UploadToken, f.DownloadToken = newRunFileToken()[:32], newRunFileToken(), newRunFileToken()
	f.CreatedAt, f.UploadExpiresAt, f.ExpiresAt = now, now.Add(PluginUploadTTL), now.Add(PluginUploadTTL+PluginFileTTL)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM plugin_files WHERE expires_at <= ?`, unixNano(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO plugin_files (id, upload_token, download_token, plugin_id, user_id,
			filename, mime_type, created_at, upload_expires_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.UploadToken, f.DownloadToken, f.PluginID, f.UserID, f.Filename, f.MIME,
			unixNano(now), unixNano(f.UploadExpiresAt), unixNano(f.ExpiresAt))
		return err
	})
}

// errNoPluginFile is the answer to an unknown, used or expired token.
var errNoPluginFile = plugboard.Errorf(plugboard.ENOTFOUND, "There is no such file, or its link has expired.")

// UploadPluginFile stores the bytes of the pending file with the upload
// token, once: the token is spent, and the file's download link runs for
// PluginFileTTL from now. An unknown, spent or expired token is not_found.
func (db *DB) UploadPluginFile(ctx context.Context, uploadToken string, data []byte) (*PluginFile, error) {
	var f *PluginFile
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if f, err = scanPluginFile(tx.QueryRowContext(ctx, pluginFileSelect+` WHERE upload_token = ?`, uploadToken)); err != nil {
			return err
		}
		now := db.Now()
		if !now.Before(f.UploadExpiresAt) {
			return errNoPluginFile
		}
		if data == nil {
			data = []byte{}
		}
		f.UploadToken, f.Data, f.Size, f.ExpiresAt = "", data, len(data), now.Add(PluginFileTTL)
		_, err = tx.ExecContext(ctx, `UPDATE plugin_files SET upload_token = NULL, data = ?, size = ?, expires_at = ? WHERE id = ?`,
			data, len(data), unixNano(f.ExpiresAt), f.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// FindPluginFile returns the uploaded file with the download token; an
// unknown or expired token, or a file not uploaded yet, is not_found.
func (db *DB) FindPluginFile(ctx context.Context, downloadToken string) (*PluginFile, error) {
	f, err := scanPluginFile(db.read.QueryRowContext(ctx, pluginFileSelect+` WHERE download_token = ?`, downloadToken))
	if err != nil {
		return nil, err
	}
	if f.UploadToken != "" || !db.Now().Before(f.ExpiresAt) {
		return nil, errNoPluginFile
	}
	return f, nil
}

const pluginFileSelect = `SELECT id, COALESCE(upload_token, ''), download_token, plugin_id, user_id, filename, mime_type, size, data,
	created_at, upload_expires_at, expires_at FROM plugin_files`

func scanPluginFile(row *sql.Row) (*PluginFile, error) {
	var f PluginFile
	var created, uploadExp, exp int64
	err := row.Scan(&f.ID, &f.UploadToken, &f.DownloadToken, &f.PluginID, &f.UserID, &f.Filename, &f.MIME, &f.Size, &f.Data,
		&created, &uploadExp, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoPluginFile
	}
	if err != nil {
		return nil, err
	}
	f.CreatedAt, f.UploadExpiresAt, f.ExpiresAt = fromUnixNano(created), fromUnixNano(uploadExp), fromUnixNano(exp)
	return &f, nil
}
