package web

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
)

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
