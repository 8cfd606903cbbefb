package playground

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/web/page"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// daemonKeyVar is the shell variable the copied curl command reads the
// daemon's API key from; an admin can have the page put the key in instead.
const daemonKeyVar = "$PLUGBOARD_DAEMON_KEY"

// runCurl is the daemon API call equivalent to the run: a command that runs
// as it is once the daemon key is in PLUGBOARD_DAEMON_KEY, with the run's
// uploaded files as their download URLs while those last, and notes saying
// plainly what else to fill in (secret parameters and credentials are never
// written into it).
func (h *Handlers) runCurl(c echo.Context, r *store.Run) views.Curl {
	params := maps.Clone(r.Params)
	var notes []string
	files, err := h.store.FindRunFiles(page.Ctx(c), r.ID)
	if err != nil {
		h.Log.Warn("run files for curl", "run", r.ID, "err", err)
	}
	live := map[string][]any{}
	for _, f := range files {
		live[f.Param] = append(live[f.Param], invoke.FileValue(f, h.publicBase(c)))
	}
	for _, name := range slices.Sorted(maps.Keys(params)) { // notes in a stable order
		v := params[name]
		switch vs, isList := v.([]any); {
		case v == invoke.Redacted:
			notes = append(notes, fmt.Sprintf("Type the secret parameter %q in place of %q.", name, invoke.Redacted))
		case len(live[name]) > 0 && isList:
			params[name] = live[name]
		case len(live[name]) > 0:
			params[name] = live[name][0]
		case invoke.IsStoredFile(v) || (isList && len(vs) > 0 && invoke.IsStoredFile(vs[0])):
			notes = append(notes, fmt.Sprintf("The link to the file uploaded for %q has expired: run the tool again here, or put a file's URL in its \"url\".", name))
		}
	}
	data := apispec.InvokeToolData{Provider: r.Provider, Tool: r.Tool, ToolParameters: params, Credentials: map[string]any{},
		CredentialType: "api-key"} // what Dify sends, and its SDK requires
	if r.CredentialID != 0 {
		notes = append(notes, "This run used a stored credential; its values are left out: add its fields under \"credentials\".")
	}
	body, _ := json.MarshalIndent(apispec.InvokeRequest[apispec.InvokeToolData]{UserID: r.Username, Data: data}, "", "  ")
	cmd := "curl -N -X POST '" + shellQuoted(h.cfg.DaemonAPIURL+"/plugin/"+client.DefaultTenant+"/dispatch/tool/invoke") + "' \\\n" +
		"  -H \"X-Api-Key: " + daemonKeyVar + "\" \\\n" +
		"  -H 'X-Plugin-ID: " + shellQuoted(r.PluginID) + "' \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  --data-binary '" + shellQuoted(string(body)) + "'"
	return views.Curl{Command: cmd, KeyVar: daemonKeyVar, Notes: notes}
}

// shellQuoted escapes s for use inside single quotes.
func shellQuoted(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// runPageData gathers what the run page shows.
func (h *Handlers) runPageData(c echo.Context, r *store.Run, evs []store.RunEvent) views.RunPageData {
	params, _ := json.MarshalIndent(r.Params, "", "  ")
	d := views.RunPageData{Run: r, Params: string(params), Curl: h.runCurl(c, r)}
	for name, v := range r.Params {
		if v == invoke.Redacted {
			d.Secrets = append(d.Secrets, name)
		}
	}
	sort.Strings(d.Secrets)
	if !r.Running() {
		d.Observation = invoke.Observation(evs)
	}
	return d
}

// daemonKey returns the daemon's API key as plain text, for an admin's
// "put the daemon key in" on a run's curl command; it is not cached, and
// each time it is given out is audited.
func (h *Handlers) daemonKey(c echo.Context) error {
	if h.cfg.DaemonKey == "" {
		return plugboard.Errorf(plugboard.ENOTFOUND, "This app was not given the daemon's API key.")
	}
	h.Audit(c, "daemon.key.view", "daemon key", "")
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, h.cfg.DaemonKey)
}
