package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon/signature"
)

type keysGenCmd struct {
	Out  string `required:"" help:"Name of the key pair: writes NAME.private.pem (mode 0600) and NAME.public.pem."`
	Bits int    `default:"4096" hidden:"" help:"RSA key size in bits."`
}

// Run makes a key pair for signing plugin packages, refusing to overwrite
// an existing one.
func (c *keysGenCmd) Run() error {
	privPath, pubPath := c.Out+".private.pem", c.Out+".public.pem"
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists: choose another --out, or remove it first", p)
		}
	}
	k, err := signature.GenerateKey(c.Bits)
	if err != nil {
		return err
	}
	if err := writeNew(privPath, signature.EncodePrivateKey(k), 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, signature.EncodePublicKey(&k.PublicKey), 0o644); err != nil {
		os.Remove(privPath)
		return err
	}
	fmt.Printf("Wrote %s (keep it secret) and %s (fingerprint %s).\nTrust the public key in the app under Settings → Signing keys.\n", privPath, pubPath, signature.Fingerprint(&k.PublicKey))
	return nil
}

// writeNew creates path with mode, failing if it exists.
func writeNew(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

type signCmd struct {
	File     string `arg:"" type:"existingfile" help:"Package (.difypkg) to sign."`
	Key      string `required:"" type:"existingfile" help:"Private key (NAME.private.pem from plugboard keys gen)."`
	Output   string `short:"o" help:"Signed package to write (default: FILE with .signed.difypkg)."`
	Category string `default:"community" enum:"community,partner,langgenius" help:"Authorized category recorded in the signature."`
}

// Run signs a package with Dify's scheme.
func (c *signCmd) Run() error {
	keyPEM, err := os.ReadFile(c.Key)
	if err != nil {
		return err
	}
	key, err := signature.ParsePrivateKey(keyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Key, err)
	}
	pkg, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	signed, err := signature.Sign(pkg, key, c.Category)
	if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	out := c.Output
	if out == "" {
		out = strings.TrimSuffix(c.File, ".difypkg") + ".signed.difypkg"
	}
	if err := writeFileAtomic(out, signed); err != nil {
		return err
	}
	fmt.Printf("Signed %s → %s (key %s)\n", c.File, out, signature.Fingerprint(&key.PublicKey))
	return nil
}

type verifyCmd struct {
	File string   `arg:"" type:"existingfile" help:"Package (.difypkg) to verify."`
	Key  []string `type:"existingfile" help:"Trusted public key (NAME.public.pem); repeat for several."`
}

// errVerify makes the command exit non-zero without repeating the verdict.
var errVerify = errors.New("the package's signature is not trusted")

// Run prints the package's signature verdict; it fails for an invalid or
// untrusted signature.
func (c *verifyCmd) Run() error {
	trusted, err := loadPublicKeys(c.Key)
	if err != nil {
		return err
	}
	pkg, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	vd, err := signature.Verify(pkg, trusted)
	if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	fmt.Println(describeVerdict(vd))
	switch vd.Status {
	case signature.Invalid:
		return errors.New("signature invalid: " + vd.Reason)
	case signature.Untrusted:
		return errVerify
	}
	return nil
}

// loadPublicKeys reads trusted keys, named after their files.
func loadPublicKeys(paths []string) ([]signature.Key, error) {
	var keys []signature.Key
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := signature.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".pem"), ".public")
		keys = append(keys, signature.Key{Name: name, Public: k})
	}
	return keys, nil
}

func describeVerdict(vd signature.Verdict) string {
	var b strings.Builder
	b.WriteString(vd.Label())
	if vd.Fingerprint != "" {
		fmt.Fprintf(&b, "\nkey:      %s", vd.Fingerprint)
	}
	if !vd.Time.IsZero() {
		fmt.Fprintf(&b, "\nsigned:   %s", vd.Time.Format(time.RFC3339))
	}
	if vd.Category != "" {
		fmt.Fprintf(&b, "\ncategory: %s", vd.Category)
	}
	if vd.Reason != "" && vd.Status != signature.Unsigned {
		fmt.Fprintf(&b, "\nreason:   %s", vd.Reason)
	}
	return b.String()
}
