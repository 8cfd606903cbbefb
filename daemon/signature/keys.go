package signature

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	"github.com/plugboard/plugboard"
)

// KeyBits is the size of the keys GenerateKey makes: Dify's 4096.
const KeyBits = 4096

// minKeyBits is the smallest RSA key accepted for signing or trusting.
const minKeyBits = 2048

// Key is a trusted public key with the name people know it by.
type Key struct {
	Name   string
	Public *rsa.PublicKey
}

// GenerateKey makes a new RSA private key of the given size (KeyBits for
// real keys; tests may use 2048 for speed).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits < minKeyBits {
		return nil, fmt.Errorf("key size %d bits is too small: use at least %d", bits, minKeyBits)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// EncodePrivateKey returns the key as a PEM "RSA PRIVATE KEY" (PKCS #1),
// the form Dify's CLI writes.
func EncodePrivateKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// EncodePublicKey returns the key as a PEM "RSA PUBLIC KEY" (PKCS #1), the
// only form Dify's daemon loads (THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS).
func EncodePublicKey(k *rsa.PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k)})
}

// ParsePrivateKey reads a PEM RSA private key (PKCS #1 or PKCS #8).
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The private key is not PEM: expected a block starting with -----BEGIN RSA PRIVATE KEY-----.")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, checkSize(&k.PublicKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The PEM block %q is not an RSA private key.", b.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The private key is not an RSA key (%T); signatures use RSA.", k)
	}
	return rk, checkSize(&rk.PublicKey)
}

// ParsePublicKey reads a PEM RSA public key (PKIX "PUBLIC KEY" or PKCS #1
// "RSA PUBLIC KEY"). A private key is refused, so none is stored by mistake.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	b, _ := pem.Decode(data)
	switch {
	case b == nil:
		return nil, plugboard.Errorf(plugboard.EINVALID, "The public key is not PEM: paste the whole block from -----BEGIN RSA PUBLIC KEY----- to -----END RSA PUBLIC KEY----- (or BEGIN PUBLIC KEY).")
	case b.Type == "RSA PRIVATE KEY" || b.Type == "PRIVATE KEY":
		return nil, plugboard.Errorf(plugboard.EINVALID, "That is a private key: paste the public key (NAME.public.pem) instead, and keep the private key secret.")
	}
	if k, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
		return k, checkSize(k)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The PEM block %q is not a public key.", b.Type)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The public key is not an RSA key (%T); signatures use RSA.", k)
	}
	return rk, checkSize(rk)
}

func checkSize(k *rsa.PublicKey) error {
	if k.N.BitLen() < minKeyBits {
		return plugboard.Errorf(plugboard.EINVALID, "The key has %d bits; at least %d are required.", k.N.BitLen(), minKeyBits)
	}
	return nil
}

// Fingerprint identifies a public key: the hex SHA-256 of its PKIX DER.
func Fingerprint(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
