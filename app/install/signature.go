package install

import (
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
)

// Screen checks data's signature against the trusted keys and the policy,
// before anything is uploaded; source is the package's Source kind.
// readable is false for data that is not a zip at all: the daemon then says
// what is wrong with it. A package the policy refuses is an Invalid error
// saying why.
func (s *Service) Screen(ctx context.Context, data []byte, source string) (vd signature.Verdict, readable bool, err error) {
	keys, err := s.store.TrustedSignatureKeys(ctx)
	if err != nil {
		return vd, false, err
	}
	vd, err = signature.Verify(data, keys)
	if err != nil {
		return vd, false, nil
	}
	policy, err := s.store.FindSignaturePolicy(ctx)
	if err != nil {
		return vd, false, err
	}
	if msg := policyRefusal(policy, vd.Status, vd.Reason, source); msg != "" {
		return vd, true, plugboard.Errorf(plugboard.EINVALID, "%s", msg)
	}
	return vd, true, nil
}

// policyRefusal says why the policy refuses a package with the signature
// status (and reason) from the source kind; "" when it passes. An invalid
// signature is refused under every policy.
func policyRefusal(p store.SignaturePolicy, st signature.Status, reason, source string) string {
	switch {
	case st == signature.Invalid:
		return "Refused: the package's signature is invalid — " + reason + "."
	case p == store.PolicyRequireTrusted && st == signature.Unsigned:
		return "Refused: the signature policy requires a trusted signature, and this package is unsigned. Sign it with plugboard plugin sign and a key trusted under Settings → Signing keys."
	case p == store.PolicyRequireTrusted && st == signature.Untrusted:
		return "Refused: the signature policy requires a trusted signature, and this package is " + reason + ". An admin can trust the key under Settings → Signing keys."
	case p == store.PolicyMarketplaceOnly && source != SourceMarketplace:
		return "Refused: the signature policy allows only packages from the marketplace, and this one comes from " + sourceWords(source) + "."
	}
	return ""
}

func sourceWords(kind string) string {
	switch kind {
	case SourceGitHub:
		return "a GitHub release"
	case SourceMarketplace:
		return "the marketplace"
	}
	return "an uploaded file"
}

// recordVerdict remembers the verdict of an uploaded package, for its card
// and for checkPolicy at install.
func (s *Service) recordVerdict(ctx context.Context, uid string, vd signature.Verdict, source string) error {
	return s.store.RecordVerdict(ctx, uid, store.PackageVerdict{
		Status: string(vd.Status), KeyName: vd.KeyName, Fingerprint: vd.Fingerprint, SignedAt: vd.Time,
		Source: source,
	})
}

// checkPolicy applies the policy again when a stored package is installed,
// with the verdict recorded at its preview (unsigned when it was never
// previewed here) and the source recorded then (not the one the caller
// claims), so a policy tightened since, or a forged install request, cannot
// slip a package past it.
func (s *Service) checkPolicy(ctx context.Context, uid, source string) error {
	found, err := s.store.FindVerdicts(ctx, []string{uid})
	if err != nil {
		return err
	}
	v, ok := found[uid]
	if !ok {
		v = store.PackageVerdict{Status: string(signature.Unsigned)}
	}
	policy, err := s.store.FindSignaturePolicy(ctx)
	if err != nil {
		return err
	}
	if v.Source != "" {
		source = v.Source
	}
	reason := "signed by a key that is not trusted here"
	if msg := policyRefusal(policy, signature.Status(v.Status), reason, source); msg != "" {
		return plugboard.Errorf(plugboard.EINVALID, "%s", msg)
	}
	return nil
}
