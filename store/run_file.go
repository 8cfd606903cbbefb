package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/plugboard/plugboard"
)

// RunFileTTL is how long an uploaded run file can be downloaded.
const RunFileTTL = time.Hour

// RunFile is a file uploaded with a playground run, passed to the plugin
// as a download URL holding its Token.
type RunFile struct {
	Token     string // random; set by CreateRun
	RunID     string // set by CreateRun
	Param     string // the tool parameter it was given for
	Filename  string
	MIME      string
	Data      []byte
	Size      int       // len(Data); set by CreateRun and the Find methods
	ExpiresAt time.Time // set by CreateRun: RunFileTTL after the run starts
}

// newRunFileToken returns an unguessable download token.
func newRunFileToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// prepareRunFiles gives each file its run, token and expiry.
func prepareRunFiles(r *Run, files []*RunFile) {
	for _, f := range files {
		f.RunID, f.Token, f.ExpiresAt = r.ID, newRunFileToken(), r.CreatedAt.Add(RunFileTTL)
		f.Size = len(f.Data)
	}
}

func createRunFile(ctx context.Context, tx *sql.Tx, f *RunFile) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO run_files (token, run_id, param, filename, mime_type, size, data, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.Token, f.RunID, f.Param, f.Filename, f.MIME, len(f.Data), f.Data, unixNano(f.ExpiresAt))
	return err
}

// FindRunFile returns the file with the download token; an unknown or
// expired token is "not found".
func (db *DB) FindRunFile(ctx context.Context, token string) (*RunFile, error) {
	f := RunFile{Token: token}
	var expires int64
	err := db.read.QueryRowContext(ctx, `SELECT run_id, param, filename, mime_type, data, expires_at FROM run_files
		WHERE token = ?`, token).Scan(&f.RunID, &f.Param, &f.Filename, &f.MIME, &f.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !db.Now().Before(fromUnixNano(expires))) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no such file, or its link has expired.")
	}
	if err != nil {
		return nil, err
	}
	f.ExpiresAt, f.Size = fromUnixNano(expires), len(f.Data)
	return &f, nil
}

// FindRunFiles returns a run's uploaded files whose links have not expired,
// in upload order, with their tokens but not their bytes.
func (db *DB) FindRunFiles(ctx context.Context, runID string) ([]*RunFile, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT token, param, filename, mime_type, size, expires_at FROM run_files
		WHERE run_id = ? AND expires_at > ? ORDER BY rowid`, runID, unixNano(db.Now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var files []*RunFile
	for rows.Next() {
		f := RunFile{RunID: runID}
		var size int
		var expires int64
		if err := rows.Scan(&f.Token, &f.Param, &f.Filename, &f.MIME, &size, &expires); err != nil {
			return nil, err
		}
		f.Size, f.ExpiresAt = size, fromUnixNano(expires)
		files = append(files, &f)
	}
	return files, rows.Err()
}

// CopyRunFiles returns copies of a run's uploaded files, bytes included and
// whether or not their links have expired, for a new run of the same
// parameters (CreateRun gives each its own token).
func (db *DB) CopyRunFiles(ctx context.Context, runID string) ([]*RunFile, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT param, filename, mime_type, data FROM run_files WHERE run_id = ? ORDER BY rowid`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var files []*RunFile
	for rows.Next() {
		var f RunFile
		if err := rows.Scan(&f.Param, &f.Filename, &f.MIME, &f.Data); err != nil {
			return nil, err
		}
		f.Size = len(f.Data)
		files = append(files, &f)
	}
	return files, rows.Err()
}
