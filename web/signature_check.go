package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// verifyPackage checks data's signature against the trusted keys and the
// policy, before anything is uploaded. ok is false for data that is not a
// zip at all: the daemon then says what is wrong with it. A package the
// policy refuses is an Invalid error saying why.
func (s *Server) verifyPackage(c echo.Context, data []byte, src packageSource) (vd signature.Verdict, ok bool, err error) {
	return s.screenPackage(ctx(c), data, src.Kind)
}

// screenPackage is verifyPackage outside a request, for code that fetches
// packages on its own (a scheduled upgrade): source is SourcePackage,
// SourceMarketplace or SourceGitHub. Record the verdict with
// RecordVerdict after uploading, so the card shows it.
func (s *Server) screenPackage(cx context.Context, data []byte, source string) (vd signature.Verdict, ok bool, err error) {
	keys, err := s.store.TrustedSignatureKeys(cx)
	if err != nil {
		return vd, false, err
	}
	vd, err = signature.Verify(data, keys)
	if err != nil {
		return vd, false, nil
	}
	policy, err := s.store.FindSignaturePolicy(cx)
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

// recordVerdict remembers the verdict of an uploaded package, for its card.
func (s *Server) recordVerdict(cx context.Context, uid string, vd signature.Verdict, src packageSource) error {
	return s.store.RecordVerdict(cx, uid, store.PackageVerdict{
		Status: string(vd.Status), KeyName: vd.KeyName, Fingerprint: vd.Fingerprint, SignedAt: vd.Time,
		Source: src.Kind,
	})
}

// checkInstallPolicy applies the policy again when a stored package is
// installed, with the verdict recorded at its preview (unsigned when it
// was never previewed here) and the source recorded then (not the one the
// form claims), so a policy tightened since, or a forged install request,
// cannot slip a package past it.
func (s *Server) checkInstallPolicy(c echo.Context, uid string, src packageSource) error {
	found, err := s.store.FindVerdicts(ctx(c), []string{uid})
	if err != nil {
		return err
	}
	v, ok := found[uid]
	if !ok {
		v = store.PackageVerdict{Status: string(signature.Unsigned)}
	}
	policy, err := s.store.FindSignaturePolicy(ctx(c))
	if err != nil {
		return err
	}
	source := src.Kind
	if v.Source != "" {
		source = v.Source
	}
	reason := "signed by a key that is not trusted here"
	if msg := policyRefusal(policy, signature.Status(v.Status), reason, source); msg != "" {
		return plugboard.Errorf(plugboard.EINVALID, "%s", msg)
	}
	return nil
}

// signatures returns the recorded signatures of installed plugins, by
// unique identifier, for their cards.
func (s *Server) signatures(c echo.Context, list []apispec.Installation) map[string]views.Signature {
	uids := make([]string, len(list))
	for i, p := range list {
		uids[i] = p.PluginUniqueIdentifier
	}
	found, err := s.store.FindVerdicts(ctx(c), uids)
	if err != nil {
		s.log.Warn("read signature verdicts", "err", err)
		return nil
	}
	out := make(map[string]views.Signature, len(found))
	for uid, v := range found {
		out[uid] = views.SignatureOfRecord(v)
	}
	return out
}

// signatureOf returns one package's recorded signature (an empty one when
// it was never previewed here).
func (s *Server) signatureOf(c echo.Context, uid string) views.Signature {
	return s.signatures(c, []apispec.Installation{{PluginUniqueIdentifier: uid}})[uid]
}
