package signature

import (
	"archive/zip"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is the outcome of verifying a package.
type Status string

// Statuses.
const (
	// Unsigned: the package carries no signature.
	Unsigned Status = "unsigned"
	// Signed: a trusted key's signature matches the package.
	Signed Status = "signed"
	// Untrusted: the signature is intact but no trusted key made it (or,
	// for a Dify-signed package without our public_key field, no trusted
	// key matches and integrity cannot be told).
	Untrusted Status = "untrusted"
	// Invalid: the signature is malformed, does not match the package
	// (changed after signing), or its time is in the future or too old.
	Invalid Status = "invalid"
)

// Verdict is what verifying a package found.
type Verdict struct {
	Status Status
	// KeyName is the trusted key that signed (Signed only).
	KeyName string
	// Fingerprint is the signer's key fingerprint, when known.
	Fingerprint string
	// Time is when the package was signed (zero when unsigned).
	Time time.Time
	// Category is the verification file's authorized_category.
	Category string
	// Reason says, in words, why the package is not Signed.
	Reason string
}

// DefaultMaxSkew is how far in the future a signature time may be (clock
// differences) before the signature counts as invalid.
const DefaultMaxSkew = 5 * time.Minute

// Verifier checks packages against trusted keys.
type Verifier struct {
	// Trusted are the keys whose signatures count as Signed.
	Trusted []Key
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
	// MaxSkew is how far in the future a signature time may lie
	// (DefaultMaxSkew when 0).
	MaxSkew time.Duration
	// MaxAge, when positive, makes a signature older than it "expired":
	// Invalid. Zero means signatures never expire (Dify's behaviour).
	MaxAge time.Duration
}

// Verify checks pkg against the trusted keys with the default Verifier.
// The error is only for a pkg that is not a zip archive at all.
func Verify(pkg []byte, trusted []Key) (Verdict, error) {
	return Verifier{Trusted: trusted}.Verify(pkg)
}

// Verify checks pkg's signature. The error is only for a pkg that is not
// a zip archive; every signature problem is an Invalid verdict.
func (v Verifier) Verify(pkg []byte) (Verdict, error) {
	zr, err := openZip(pkg)
	if err != nil {
		return Verdict{}, err
	}
	if zr.Comment == "" {
		return Verdict{Status: Unsigned, Reason: "The package is not signed."}, nil
	}
	cm, sig, err := parseComment(zr.Comment)
	if err != nil {
		return invalid(err.Error()), nil
	}
	vd := Verdict{Time: time.Unix(*cm.Time, 0).UTC(), Fingerprint: cm.Key}
	if reason := v.checkTime(vd.Time); reason != "" {
		return vd.with(Invalid, reason), nil
	}
	hash, cat, err := packageHash(zr, *cm.Time)
	if err != nil {
		return vd.with(Invalid, err.Error()), nil
	}
	vd.Category = cat
	return v.match(vd, cm, hash, sig), nil
}

func invalid(reason string) Verdict { return Verdict{Status: Invalid, Reason: reason} }

func (vd Verdict) with(s Status, reason string) Verdict {
	vd.Status, vd.Reason = s, reason
	return vd
}

// parseComment reads the zip comment as Dify's signature object.
func parseComment(s string) (comment, []byte, error) {
	var cm comment
	if err := json.Unmarshal([]byte(s), &cm); err != nil || cm.Signature == "" || cm.Time == nil {
		return cm, nil, fmt.Errorf("the zip comment is not a signature (expected {\"signature\": …, \"time\": …})")
	}
	sig, err := base64.StdEncoding.DecodeString(cm.Signature)
	if err != nil {
		return cm, nil, fmt.Errorf("the signature is not valid base64")
	}
	return cm, sig, nil
}

// checkTime words why a signature time is refused; "" when it is fine.
func (v Verifier) checkTime(at time.Time) string {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	}
	switch {
	case at.After(now.Add(skew)):
		return fmt.Sprintf("the signature's time (%s) is in the future", at.Format(time.RFC3339))
	case v.MaxAge > 0 && now.Sub(at) > v.MaxAge:
		return fmt.Sprintf("the signature expired: it was made %s, more than %s ago", at.Format(time.RFC3339), v.MaxAge)
	}
	return ""
}

// packageHash recomputes the hash the signature is over, as Dify's
// verifier does: the SHA-256 of every file in zip order — the verification
// file included, as it is (the signer writes it last, so this equals the
// signer's sha256(verification) term) — then the decimal time. It also
// returns the authorized category ("" when the file is absent, as in
// Dify's oldest signed packages).
func packageHash(zr *zip.Reader, unix int64) ([]byte, string, error) {
	h := sha256.New()
	var category string
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			return nil, "", err
		}
		sum := sha256.Sum256(data)
		h.Write(sum[:])
		if f.Name == VerificationFile {
			var vf verification
			if err := json.Unmarshal(data, &vf); err != nil {
				return nil, "", fmt.Errorf("%s is not valid JSON", VerificationFile)
			}
			category = vf.AuthorizedCategory
		}
	}
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	return h.Sum(nil), category, nil
}

// match finds the trusted key that made sig, else tells an intact
// signature by an unknown key from a package changed after signing.
func (v Verifier) match(vd Verdict, cm comment, hash, sig []byte) Verdict {
	for _, k := range v.Trusted {
		if rsa.VerifyPKCS1v15(k.Public, crypto.SHA256, hash, sig) == nil {
			vd.KeyName, vd.Fingerprint = k.Name, Fingerprint(k.Public)
			return vd.with(Signed, "")
		}
	}
	if cm.PublicKey == "" {
		return vd.with(Untrusted, "no trusted key matches the signature")
	}
	pub, err := embeddedKey(cm.PublicKey)
	if err != nil {
		return vd.with(Invalid, err.Error())
	}
	vd.Fingerprint = Fingerprint(pub)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig) != nil {
		return vd.with(Invalid, "the package was changed after it was signed (the signature does not match its files)")
	}
	return vd.with(Untrusted, "signed by a key that is not trusted here (fingerprint "+vd.Fingerprint+")")
}

func embeddedKey(b64 string) (*rsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the signer's public key in the zip comment is not valid base64")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	rk, ok := k.(*rsa.PublicKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("the signer's public key in the zip comment is not an RSA public key")
	}
	return rk, nil
}

// Label words a verdict for people: "signed by NAME", "unsigned",
// "untrusted signature" or "signature invalid".
func (vd Verdict) Label() string {
	switch vd.Status {
	case Signed:
		return "signed by " + vd.KeyName
	case Untrusted:
		return "untrusted signature"
	case Invalid:
		return "signature invalid"
	}
	return "unsigned"
}
