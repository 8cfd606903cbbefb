package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// keysPath is the API keys page.
const keysPath = "/settings/api-keys"

// keysPage shows the keys and the form of a new one.
func (h *Handlers) keysPage(c echo.Context) error {
	return h.renderKeys(c, http.StatusOK, views.APIKeysData{Form: views.NewForm()})
}

// renderKeys renders the page with d's form, created key and the stored
// keys and installed providers.
func (h *Handlers) renderKeys(c echo.Context, status int, d views.APIKeysData) error {
	var err error
	if d.Keys, err = h.Store.FindAPIKeys(page.Ctx(c)); err != nil {
		return err
	}
	if d.Providers, err = h.providers(c); err != nil {
		return err
	}
	d.MCPURL, d.APIURL, d.Now = h.baseURL(c)+"/mcp", h.baseURL(c)+"/api/v1", time.Now()
	c.Response().Header().Set("Cache-Control", "no-store") // it may hold a new key's secret
	return page.Render(c, status, views.APIKeysPage(h.Chrome(c, "API keys", views.NavAPIKeys), d))
}

// providers are the installed tool providers with their tools and stored
// credentials, for the form.
func (h *Handlers) providers(c echo.Context) ([]views.KeyProvider, error) {
	tools, err := h.gw.Catalog(page.Ctx(c))
	if err != nil {
		return nil, err
	}
	var out []views.KeyProvider
	for _, t := range tools {
		if len(out) == 0 || out[len(out)-1].PluginID != t.PluginID || out[len(out)-1].Provider != t.Provider {
			creds, err := h.cfg.Credentials.FindCredentials(page.Ctx(c), store.CredentialFilter{PluginID: t.PluginID, Provider: t.Provider})
			if err != nil {
				return nil, err
			}
			out = append(out, views.KeyProvider{PluginID: t.PluginID, Provider: t.Provider, Credentials: creds})
		}
		kt := views.KeyTool{Name: t.Name, Tool: t.Tool}
		for _, p := range t.Declaration.Parameters {
			if p.Form == "form" {
				kt.FormParams = append(kt.FormParams, p.Name)
			}
		}
		out[len(out)-1].Tools = append(out[len(out)-1].Tools, kt)
	}
	return out, nil
}

// createKey creates a key from the form and shows its secret, this once.
func (h *Handlers) createKey(c echo.Context) error {
	f := page.FormValues(c, "name", "rate", "expires", "fixed")
	in, err := h.keyInput(c, f)
	if err == nil {
		var k *store.APIKey
		var secret string
		if k, secret, err = h.gw.CreateKey(page.Ctx(c), page.CurrentUser(c).Username, in, h.cfg.Credentials); err == nil {
			return h.renderKeys(c, http.StatusOK, views.APIKeysData{Form: views.NewForm(), Created: k, Secret: secret})
		}
	}
	status := page.FormError(f, err)
	if status == http.StatusInternalServerError {
		return err
	}
	return h.renderKeys(c, status, views.APIKeysData{Form: f})
}

// keyInput reads the form: providers ticked, their tools and credential,
// the fixed values (by tool name), rate and expiry.
func (h *Handlers) keyInput(c echo.Context, f *views.Form) (store.APIKeyInput, error) {
	in := store.APIKeyInput{Name: f.Values["name"]}
	form, _ := c.FormParams()
	fixed := map[string]map[string]any{}
	if s := f.Values["fixed"]; s != "" {
		if err := json.Unmarshal([]byte(s), &fixed); err != nil {
			return in, &store.FieldError{Field: "fixed", Message: "Fixed parameters must be a JSON object of tool names to objects of values: " + err.Error() + "."}
		}
	}
	tools, err := h.gw.Catalog(page.Ctx(c))
	if err != nil {
		return in, err
	}
	for _, ref := range form["provider"] {
		pluginID, provider, _ := strings.Cut(ref, "|")
		p := store.ScopeProvider{PluginID: pluginID, Provider: provider, Tools: form["tool."+ref]}
		p.CredentialID, _ = strconv.ParseInt(form.Get("cred."+ref), 10, 64)
		for _, t := range tools {
			if v, ok := fixed[t.Name]; ok && t.PluginID == pluginID && t.Provider == provider {
				if p.Fixed == nil {
					p.Fixed = map[string]map[string]any{}
				}
				p.Fixed[t.Tool] = v
				delete(fixed, t.Name)
			}
		}
		in.Scope.Providers = append(in.Scope.Providers, p)
	}
	for name := range fixed {
		return in, &store.FieldError{Field: "fixed", Message: "Fixed parameters name " + name + ", which is not a tool of a provider ticked."}
	}
	if r := f.Values["rate"]; r != "" {
		if in.RatePerMinute, err = strconv.Atoi(r); err != nil || in.RatePerMinute <= 0 {
			return in, &store.FieldError{Field: "rate", Message: "The rate limit must be a whole number of requests a minute."}
		}
	}
	if e := f.Values["expires"]; e != "" {
		if in.ExpiresAt, err = time.Parse(time.DateOnly, e); err != nil {
			return in, &store.FieldError{Field: "expires", Message: "The expiry must be a day like 2027-01-31."}
		}
	}
	return in, nil
}

// revokeKey revokes a key: from this moment it is refused.
func (h *Handlers) revokeKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "No such API key.")
	}
	k, err := h.gw.Revoke(page.Ctx(c), page.CurrentUser(c).Username, id)
	if err != nil {
		return err
	}
	return h.FlashRedirect(c, "Revoked the key "+k.Name+": it is refused from now on.", keysPath)
}
