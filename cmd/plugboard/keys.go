package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

type keysCmd struct {
	Gen    keysGenCmd    `cmd:"" help:"Make an RSA key pair for signing plugin packages."`
	Rotate keysRotateCmd `cmd:"" help:"Re-wrap the secrets' data key under a new master key (the server may keep running)."`
}

type keysRotateCmd struct {
	Data   string `default:"./data" env:"PLUGBOARD_DATA" help:"Data directory of plugboard serve."`
	NewKey string `help:"With PLUGBOARD_SECRET_KEY: the new master key (base64 of 32 bytes); generated when omitted."`
}

// Run rotates the master key: the key file's when PLUGBOARD_SECRET_KEY is
// unset, else the environment's (printing the new key once).
func (c *keysRotateCmd) Run(ctx context.Context) error {
	db, err := store.Open(ctx, filepath.Join(c.Data, "plugboard.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	env := os.Getenv(secret.EnvVar)
	if env == "" {
		if c.NewKey != "" {
			return errors.New("--new-key is for a key kept in " + secret.EnvVar + "; a key file gets a new random key")
		}
		src, err := secret.RotateKeyFile(ctx, c.Data, db)
		if err != nil {
			return err
		}
		auditRotate(ctx, db, src.Fingerprint)
		fmt.Printf("Rotated: %s now holds the new master key (fingerprint %s). Back it up; the old key no longer opens the data.\n", src.Path, src.Fingerprint)
		return nil
	}
	return c.rotateEnv(ctx, db, env)
}

// rotateEnv re-wraps under --new-key or a generated key and prints it.
func (c *keysRotateCmd) rotateEnv(ctx context.Context, db *store.DB, env string) error {
	kr, err := secret.Open(ctx, c.Data, env, db)
	if err != nil {
		return err
	}
	enc := c.NewKey
	if enc == "" {
		enc = secret.NewMasterKey()
	}
	key, err := secret.ParseMasterKey(enc, "--new-key")
	if err != nil {
		return err
	}
	src, err := kr.Rotate(ctx, db, key)
	if err != nil {
		return err
	}
	auditRotate(ctx, db, src.Fingerprint)
	fmt.Printf("Rotated to the master key of fingerprint %s. Set it before the next start:\n\n  %s=%s\n\nThe old key no longer opens the data; this key is not shown again.\n", src.Fingerprint, secret.EnvVar, enc)
	return nil
}

// auditRotate records the rotation in the app's audit log; the rotation has
// happened either way, so a failure to record is only reported.
func auditRotate(ctx context.Context, db *store.DB, fingerprint string) {
	if err := db.Audit(ctx, "command line", store.AuditKeysRotate, "master key", "new fingerprint "+fingerprint); err != nil {
		fmt.Fprintln(os.Stderr, "warning: the rotation was not recorded in the audit log:", err)
	}
}
