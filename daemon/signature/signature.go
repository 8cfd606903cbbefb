// Package signature signs and verifies plugin packages with Dify's scheme.
//
// A signed package holds .verification.dify.json ({"authorized_category":
// …}) as its last file and, in the zip comment, the JSON
// {"signature": base64, "time": unix}. The signature is RSA PKCS #1 v1.5
// over SHA-256 of
//
//	sha256(file_1) ‖ … ‖ sha256(file_n) ‖ sha256(verification JSON) ‖ decimal(time)
//
// with the files in zip order, the verification file written last (so a
// verifier may simply hash every file in zip order, as Dify's does). We add two fields Dify ignores: "key" (the signer's fingerprint)
// and "public_key" (its PKIX DER, base64), so that a package changed after
// signing is told apart from one signed by a key nobody trusts.
package signature

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// VerificationFile is the file a signed package carries its authorized
// category in.
const VerificationFile = ".verification.dify.json"

// Authorized categories (Dify's); Sign defaults to CategoryCommunity.
const (
	CategoryLangGenius = "langgenius"
	CategoryPartner    = "partner"
	CategoryCommunity  = "community"
)

// verification is the content of VerificationFile.
type verification struct {
	AuthorizedCategory string `json:"authorized_category"`
}

// comment is the zip comment of a signed package.
type comment struct {
	Signature string `json:"signature"`
	Time      *int64 `json:"time"`
	Key       string `json:"key,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// Sign returns pkg signed with key now, its verification file saying
// category ("" for community). An earlier signature is replaced.
func Sign(pkg []byte, key *rsa.PrivateKey, category string) ([]byte, error) {
	return SignAt(pkg, key, category, time.Now())
}

// SignAt is Sign with the signing time given.
func SignAt(pkg []byte, key *rsa.PrivateKey, category string, at time.Time) ([]byte, error) {
	if category == "" {
		category = CategoryCommunity
	}
	switch category {
	case CategoryLangGenius, CategoryPartner, CategoryCommunity:
	default:
		return nil, plugboard.Errorf(plugboard.EINVALID, "Unknown authorized category %q: use %s, %s or %s.", category, CategoryCommunity, CategoryPartner, CategoryLangGenius)
	}
	zr, err := openZip(pkg)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	digest, err := copyFiles(zw, zr)
	if err != nil {
		return nil, err
	}
	ver, _ := json.Marshal(verification{AuthorizedCategory: category})
	if err := writeFile(zw, VerificationFile, ver); err != nil {
		return nil, err
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, signedHash(digest, ver, at.Unix()))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if err := zw.SetComment(commentFor(sig, &key.PublicKey, at.Unix())); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// openZip reads pkg as a zip, with a clear error when it is not one.
func openZip(pkg []byte) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The file is not a plugin package (not a zip archive): %v.", err)
	}
	return zr, nil
}

// copyFiles copies every file but the verification file, in order, and
// returns the concatenation of their SHA-256 sums.
func copyFiles(zw *zip.Writer, zr *zip.Reader) ([]byte, error) {
	var digest []byte
	for _, f := range signedFiles(zr) {
		data, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		digest = append(digest, sum[:]...)
		if err := writeFile(zw, f.Name, data); err != nil {
			return nil, err
		}
	}
	return digest, nil
}

// signedFiles lists the entries the signature covers: files (not
// directories) other than the verification file, in zip order.
func signedFiles(zr *zip.Reader) []*zip.File {
	var out []*zip.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") || f.Name == VerificationFile {
			continue
		}
		out = append(out, f)
	}
	return out
}

// maxEntry bounds one file read while signing or verifying (the package
// reader enforces the real limits).
const maxEntry = 256 << 20

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Can't read %s in the package: %v.", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxEntry+1))
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Can't read %s in the package: %v.", f.Name, err)
	}
	if len(data) > maxEntry {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s in the package is larger than %d bytes.", f.Name, maxEntry)
	}
	return data, nil
}

func writeFile(zw *zip.Writer, name string, data []byte) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// signedHash is the SHA-256 the RSA signature is over.
func signedHash(digest, ver []byte, unix int64) []byte {
	h := sha256.New()
	h.Write(digest)
	vs := sha256.Sum256(ver)
	h.Write(vs[:])
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	return h.Sum(nil)
}

func commentFor(sig []byte, pub *rsa.PublicKey, unix int64) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	b, _ := json.Marshal(comment{
		Signature: base64.StdEncoding.EncodeToString(sig),
		Time:      &unix,
		Key:       Fingerprint(pub),
		PublicKey: base64.StdEncoding.EncodeToString(der),
	})
	return string(b)
}
