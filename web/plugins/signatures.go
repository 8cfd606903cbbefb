package plugins

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// signatures returns the recorded signatures of installed plugins, by
// unique identifier, for their cards.
func (h *Handlers) signatures(c echo.Context, list []apispec.Installation) map[string]views.Signature {
	uids := make([]string, len(list))
	for i, p := range list {
		uids[i] = p.PluginUniqueIdentifier
	}
	found, err := h.store.FindVerdicts(page.Ctx(c), uids)
	if err != nil {
		h.Log.Warn("read signature verdicts", "err", err)
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
func (h *Handlers) signatureOf(c echo.Context, uid string) views.Signature {
	return h.signatures(c, []apispec.Installation{{PluginUniqueIdentifier: uid}})[uid]
}
