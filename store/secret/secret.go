// Package secret encrypts the admin app's secrets at rest: credentials,
// extension API keys. Values are sealed with AES-256-GCM under one random
// data key; the data key is stored in the database wrapped (AES-256-GCM) by
// a master key that never touches the database. The master key comes from
// PLUGBOARD_SECRET_KEY (base64 of 32 bytes) or from DATA/master.key, created
// with mode 0600 at first start. Rotating the master key re-wraps the data
// key only, so ciphertexts and a running server are unaffected.
package secret

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size in bytes of master and data keys (AES-256).
const KeySize = 32

// EnvVar is the environment variable that may carry the master key.
const EnvVar = "PLUGBOARD_SECRET_KEY"

// KeyFileName is the master key file's name inside the data directory.
const KeyFileName = "master.key"

// sealVersion prefixes every ciphertext, so a future scheme can coexist.
const sealVersion byte = 1

// KeyStore keeps the wrapped data key; the store package implements it in
// its database. Values are opaque strings produced by this package.
type KeyStore interface {
	// WrappedDataKey returns the stored wrapped data key, ok=false when none
	// has been stored yet.
	WrappedDataKey(ctx context.Context) (wrapped string, ok bool, err error)
	// SwapWrappedDataKey stores next in one transaction if the stored value
	// is still prev ("" meaning none is stored), else fails without change.
	SwapWrappedDataKey(ctx context.Context, prev, next string) error
}

// Keyring seals and opens secrets with the data key. It is safe for
// concurrent use.
type Keyring struct {
	aead    cipher.AEAD
	dataKey []byte
	source  Source
}

// Source describes where the master key came from, for messages.
type Source struct {
	// Env is true when the key came from PLUGBOARD_SECRET_KEY.
	Env bool
	// Path is the key file's path when it came from a file.
	Path string
	// Fingerprint is a short, non-secret identifier of the master key.
	Fingerprint string
}

// String names the source, e.g. "PLUGBOARD_SECRET_KEY, fingerprint 1a2b3c4d".
func (s Source) String() string {
	where := EnvVar
	if !s.Env {
		where = "key file " + s.Path
	}
	return where + ", fingerprint " + s.Fingerprint
}

// Source says where the master key in use came from.
func (k *Keyring) Source() Source { return k.source }

// newAEAD returns AES-256-GCM under key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext under aead with a random nonce: version, nonce,
// then ciphertext and tag.
func seal(aead cipher.AEAD, plaintext []byte, aad string) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], plaintext, []byte(aad)), nil
}

// ErrCorrupt is returned (wrapped) by Open when a ciphertext cannot be
// decrypted: damaged, truncated, or sealed for another record.
var ErrCorrupt = errors.New("ciphertext is corrupt or belongs to another record")

// open reverses seal.
func open(aead cipher.AEAD, ciphertext []byte, aad string) ([]byte, error) {
	n := aead.NonceSize()
	if len(ciphertext) < 1+n+aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(ciphertext))
	}
	if ciphertext[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, ciphertext[0])
	}
	pt, err := aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	return pt, nil
}

// Seal encrypts plaintext. aad binds the ciphertext to its record (for
// example "credential:12:api_key"): Open must be given the same aad, so a
// ciphertext copied to another record does not decrypt.
func (k *Keyring) Seal(plaintext []byte, aad string) ([]byte, error) {
	return seal(k.aead, plaintext, aad)
}

// Open decrypts a ciphertext made by Seal with the same aad. A damaged
// ciphertext gives an error wrapping ErrCorrupt, never a panic.
func (k *Keyring) Open(ciphertext []byte, aad string) ([]byte, error) {
	return open(k.aead, ciphertext, aad)
}

// SealString is Seal for a string, returning base64 text (for TEXT columns).
func (k *Keyring) SealString(plaintext, aad string) (string, error) {
	ct, err := k.Seal([]byte(plaintext), aad)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// OpenString reverses SealString.
func (k *Keyring) OpenString(ciphertext, aad string) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("%w: not base64", ErrCorrupt)
	}
	pt, err := k.Open(ct, aad)
	return string(pt), err
}

// Mask hides a secret for display: the first two and last two characters
// around asterisks ("ab******yz"), or all asterisks ("********") when it is
// shorter than 8 characters.
func Mask(s string) string {
	r := []rune(s)
	if len(r) < 8 {
		return "********"
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-4) + string(r[len(r)-2:])
}

// IsMask reports whether v is what Mask(secret) shows, i.e. a form sent the
// masked value back unchanged.
func IsMask(v, secret string) bool { return v != "" && v == Mask(secret) }

// fingerprint is a short, non-secret identifier of a master key, also used
// as the key check value stored with the wrapped data key.
func fingerprint(master []byte) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("plugboard master key check v1"))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// NewMasterKey returns a random master key, base64-encoded as
// PLUGBOARD_SECRET_KEY and the key file expect.
func NewMasterKey() string {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(k)
}

// ParseMasterKey decodes a base64 master key and checks its length. what
// names where it came from, for the message.
func ParseMasterKey(s, what string) ([]byte, error) {
	s = strings.TrimSpace(s)
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		k, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not valid base64: %v (generate one with: head -c 32 /dev/urandom | base64)", what, err)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("%s decodes to %d bytes; it must be base64 of exactly %d random bytes (generate one with: head -c 32 /dev/urandom | base64)", what, len(k), KeySize)
	}
	return k, nil
}
