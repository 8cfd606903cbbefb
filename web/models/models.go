// Package models serves the Models pages over app/models: the installed
// model providers with their models and the workspace's default models
// (every signed-in user sees them, admins change them), and an admin's page
// of one provider — its credential and its customizable models, with forms
// generated from the provider's schemas — and the model playground's chat,
// streamed over server-sent events.
package models

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the Models pages.
type Handlers struct {
	*page.Kit
	models *appmodels.Service
	clips  *clips // the TTS tryout's recent audio
}

// New returns the Models handlers over the model service.
func New(kit *page.Kit, svc *appmodels.Service) *Handlers {
	return &Handlers{Kit: kit, models: svc, clips: &clips{now: time.Now}}
}

// Routes registers the Models pages: the list, the chat and its history
// and the tryouts for everyone signed in, the rest for admins.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/models", h.modelsPage, ch.SignedIn...)
	e.GET("/models/chat", h.chatPage, ch.SignedIn...)
	e.POST("/models/chat/stream", h.chatStream, ch.SignedIn...)
	e.GET("/models/chats", h.chatsPage, ch.SignedIn...)
	e.GET("/models/chats/:id", h.chatView, ch.SignedIn...)
	e.POST("/models/chats/:id/delete", h.chatDelete, ch.SignedIn...)
	e.GET("/models/try/:type", h.tryPage, ch.SignedIn...)
	e.POST("/models/try/:type", h.tryRun, ch.SignedIn...)
	e.POST(SpeechToTextPath, h.transcribeRun, ch.SignedIn...) // its own route: it takes an upload
	e.GET("/models/try/tts/audio/:id", h.serveClip, ch.SignedIn...)
	e.POST("/models/defaults", h.saveDefaults, ch.Admins...)
	e.GET("/models/:author/:name/:provider", h.providerPage, ch.Admins...)
	e.POST("/models/:author/:name/:provider/credential", h.saveCredential, ch.Admins...)
	e.POST("/models/:author/:name/:provider/credential/delete", h.deleteCredential, ch.Admins...)
	e.POST("/models/:author/:name/:provider/custom", h.saveCustomModel, ch.Admins...)
	e.POST("/models/:author/:name/:provider/custom/delete", h.deleteCustomModel, ch.Admins...)
}

// modelsPage lists the providers and the default models.
func (h *Handlers) modelsPage(c echo.Context) error {
	ch := h.Chrome(c, "Models", views.NavModels)
	var problem string
	providers, err := h.models.Providers(page.Ctx(c))
	if err != nil {
		problem = page.DaemonProblem(err)
	}
	defs, err := h.models.Defaults(page.Ctx(c))
	if err != nil {
		return err
	}
	list := make([]*views.ModelProvider, 0, len(providers))
	for _, p := range providers {
		list = append(list, providerView(p))
	}
	return page.Render(c, http.StatusOK, views.ModelsPage(ch, list, defaultChoices(providers, defs), problem))
}

// defaultChoices is the picker of each default type: the models usable
// now, and the current default (listed as unavailable when it no longer
// is).
func defaultChoices(providers []*appmodels.Provider, defs map[string]store.DefaultModel) []views.DefaultChoice {
	var out []views.DefaultChoice
	for _, t := range appmodels.DefaultTypes {
		d := views.DefaultChoice{Type: t}
		for _, r := range appmodels.Models(providers, t) {
			d.Options = append(d.Options, views.ModelOption{Key: r.Key(), Label: r.Label})
		}
		if cur, ok := defs[t]; ok {
			ref := appmodels.ModelRef{PluginID: cur.PluginID, Provider: cur.Provider, ModelType: t, Model: cur.Model}
			d.Current = ref.Key()
			if !slices.ContainsFunc(d.Options, func(o views.ModelOption) bool { return o.Key == d.Current }) {
				d.Options = append(d.Options, views.ModelOption{Key: d.Current, Label: cur.Model + " — " + cur.PluginID + " (unavailable)"})
			}
		}
		out = append(out, d)
	}
	return out
}

// saveDefaults sets each default type whose choice changed.
func (h *Handlers) saveDefaults(c echo.Context) error {
	ctx := page.Ctx(c)
	defs, err := h.models.Defaults(ctx)
	if err != nil {
		return err
	}
	changed := 0
	for _, t := range appmodels.DefaultTypes {
		key := c.FormValue(views.DefaultInputName(t))
		cur, had := defs[t]
		if had && key == (appmodels.ModelRef{PluginID: cur.PluginID, Provider: cur.Provider, Model: cur.Model}).Key() || !had && key == "" {
			continue
		}
		ref := appmodels.ModelRef{ModelType: t}
		if key != "" {
			var ok bool
			if ref, ok = appmodels.ParseKey(t, key); !ok {
				return plugboard.Errorf(plugboard.EINVALID, "%q names no model.", key)
			}
		}
		if err := h.models.SetDefault(ctx, page.Actor(c), ref); err != nil {
			if ferr := h.Flash(c, views.FlashError, views.ModelTypeLabel(t)+": "+plugboard.ErrorMessage(err)); ferr != nil {
				return ferr
			}
			return page.Redirect(c, "/models")
		}
		changed++
	}
	if changed == 0 {
		return h.FlashRedirect(c, "The default models are unchanged.", "/models")
	}
	return h.FlashRedirect(c, "Saved the default models.", "/models")
}

// provider loads the provider the path names.
func (h *Handlers) provider(c echo.Context) (*appmodels.Provider, error) {
	return h.models.Provider(page.Ctx(c), page.PluginID(c), c.Param("provider"))
}

// providerPage shows a provider's forms; ?edit_type=&edit_model= fills the
// customizable-model form with a saved model.
func (h *Handlers) providerPage(c echo.Context) error {
	p, err := h.provider(c)
	if err != nil {
		return err
	}
	custom, editing := newCustomForm(p), false
	if t, m := c.QueryParam("edit_type"), c.QueryParam("edit_model"); m != "" {
		if saved := findCustom(p, t, m); saved != nil {
			custom, editing = savedForm(saved), true
			custom.Values[views.ModelTypeInputName], custom.Values[views.ModelInputName] = t, m
		}
	}
	cred := views.NewForm()
	if p.Credential != nil {
		cred = savedForm(p.Credential)
	} else {
		fillDefaults(cred, p.CredentialSchema())
	}
	return h.renderProvider(c, http.StatusOK, p, cred, custom, editing)
}

func (h *Handlers) renderProvider(c echo.Context, status int, p *appmodels.Provider, cred, custom *views.Form, editing bool) error {
	return page.Render(c, status, views.ModelProviderPage(h.Chrome(c, p.Label()+" · Models", views.NavModels), providerView(p), cred, custom, editing))
}

// saveCredential validates and saves the provider's credential.
func (h *Handlers) saveCredential(c echo.Context) error {
	p, err := h.provider(c)
	if err != nil {
		return err
	}
	schema := p.CredentialSchema()
	raw := readFields(c, schema)
	_, err = h.models.SaveProviderCredential(page.Ctx(c), page.Actor(c), p, raw)
	if err != nil {
		var masked map[string]string
		if p.Credential != nil {
			masked = p.Credential.Masked
		}
		f := refill(schema, raw, masked, err)
		return h.renderProvider(c, page.StatusOf(plugboard.ErrorCode(err)), p, f, newCustomForm(p), false)
	}
	return h.FlashRedirect(c, "Saved the credential of "+p.Label()+"; the plugin accepted it.", providerView(p).Path())
}

// deleteCredential removes the provider's credential.
func (h *Handlers) deleteCredential(c echo.Context) error {
	p, err := h.provider(c)
	if err != nil {
		return err
	}
	if err := h.models.DeleteCredential(page.Ctx(c), page.Actor(c), p, "", ""); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted the credential of "+p.Label()+".", providerView(p).Path())
}

// saveCustomModel validates and saves a customizable model.
func (h *Handlers) saveCustomModel(c echo.Context) error {
	p, err := h.provider(c)
	if err != nil {
		return err
	}
	if p.ModelSchema() == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "%s takes no customizable models.", p.Label())
	}
	schema := p.ModelSchema().CredentialFormSchemas
	modelType, model := c.FormValue(views.ModelTypeInputName), c.FormValue(views.ModelInputName)
	raw := readFields(c, schema)
	saved, err := h.models.SaveCustomModel(page.Ctx(c), page.Actor(c), p, modelType, model, raw)
	if err != nil {
		old := findCustom(p, modelType, model)
		var masked map[string]string
		if old != nil {
			masked = old.Masked
		}
		f := refill(schema, raw, masked, err)
		f.Values[views.ModelTypeInputName], f.Values[views.ModelInputName] = modelType, model
		var fe appmodels.FieldErrors
		if errors.As(err, &fe) {
			f.Errors[views.ModelTypeInputName], f.Errors[views.ModelInputName] = fe[appmodels.ModelTypeField], fe[appmodels.ModelField]
		}
		cred := views.NewForm()
		if p.Credential != nil {
			cred = savedForm(p.Credential)
		}
		return h.renderProvider(c, page.StatusOf(plugboard.ErrorCode(err)), p, cred, f, old != nil)
	}
	return h.FlashRedirect(c, "Saved "+saved.Model+" ("+views.ModelTypeLabel(saved.ModelType)+"); the plugin accepted it.", providerView(p).Path())
}

// deleteCustomModel removes a customizable model.
func (h *Handlers) deleteCustomModel(c echo.Context) error {
	p, err := h.provider(c)
	if err != nil {
		return err
	}
	modelType, model := c.FormValue(views.ModelTypeInputName), c.FormValue(views.ModelInputName)
	if err := h.models.DeleteCredential(page.Ctx(c), page.Actor(c), p, modelType, model); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted "+model+".", providerView(p).Path())
}

// readFields reads a form's schema fields by variable; a switch is "true"
// or "false", whether its box was sent or not.
func readFields(c echo.Context, schema []plugboard.CredentialFormSchema) map[string]string {
	raw := make(map[string]string, len(schema))
	for _, f := range schema {
		v := c.FormValue(views.CredentialInputName(f.Variable))
		if f.Type == plugboard.FormSwitch {
			if v == "true" || v == "on" {
				v = "true"
			} else {
				v = "false"
			}
		}
		raw[f.Variable] = v
	}
	return raw
}

// retypeSecret is shown on a secret the user typed when the form comes
// back: what was typed is never sent back to the browser.
const retypeSecret = "Type it again: a secret you enter is never sent back to the browser."

// refill is a form re-rendered after err: what was typed, but a secret only
// as the stored value's mask (a typed one is asked for again), with the
// field problems or the whole-form message.
func refill(schema []plugboard.CredentialFormSchema, raw, masked map[string]string, err error) *views.Form {
	f := views.NewForm()
	var fe appmodels.FieldErrors
	isFields := errors.As(err, &fe)
	if !isFields {
		f.Error = plugboard.ErrorMessage(err)
	}
	for _, field := range schema {
		name := views.CredentialInputName(field.Variable)
		v := raw[field.Variable]
		if isFields && fe[field.Variable] != "" {
			f.Errors[name] = fe[field.Variable]
		}
		if field.Type == plugboard.FormSecretInput {
			if m := masked[field.Variable]; m != "" && v == m {
				f.Values[name] = m
			} else if v != "" && f.Errors[name] == "" {
				f.Errors[name] = retypeSecret
			}
			continue
		}
		f.Values[name] = v
	}
	return f
}

// savedForm fills a form from a saved credential: secrets masked.
func savedForm(c *store.ModelCredential) *views.Form {
	f := views.NewForm()
	for k, v := range c.Values {
		if s, ok := v.(string); ok {
			f.Values[views.CredentialInputName(k)] = s
		}
	}
	for k, v := range c.Masked {
		f.Values[views.CredentialInputName(k)] = v
	}
	return f
}

// newCustomForm is the empty customizable-model form with the schema's
// defaults and the provider's first model type.
func newCustomForm(p *appmodels.Provider) *views.Form {
	f := views.NewForm()
	if s := p.ModelSchema(); s != nil {
		fillDefaults(f, s.CredentialFormSchemas)
	}
	if len(p.Decl.SupportedModelTypes) > 0 {
		f.Values[views.ModelTypeInputName] = p.Decl.SupportedModelTypes[0]
	}
	return f
}

func fillDefaults(f *views.Form, schema []plugboard.CredentialFormSchema) {
	for k, v := range appmodels.Defaults(schema) {
		f.Values[views.CredentialInputName(k)] = v
	}
}

func findCustom(p *appmodels.Provider, modelType, model string) *store.ModelCredential {
	for _, c := range p.Custom {
		if c.ModelType == modelType && c.Model == model {
			return c
		}
	}
	return nil
}

// providerView is a provider as the views show it.
func providerView(p *appmodels.Provider) *views.ModelProvider {
	v := &views.ModelProvider{
		PluginID: p.PluginID, Provider: p.Name(), Label: p.Label(), Description: p.Decl.Description.English(),
		Types: p.Decl.SupportedModelTypes, Ready: p.Ready(), Predefined: p.Predefined(), Customizable: p.Customizable(),
		Credential: p.Credential, CredentialSchema: p.CredentialSchema(), ModelSchema: p.ModelSchema(), Custom: p.Custom,
	}
	if icon := p.Decl.IconSmall.English(); icon != "" && p.UniqueIdentifier != "" {
		v.Icon = views.IconURL(p.UniqueIdentifier, icon)
	}
	for _, t := range plugboard.ModelTypes {
		if ms := p.Decl.ModelsOf(t); len(ms) > 0 {
			v.Groups = append(v.Groups, views.ModelGroup{Type: t, Models: ms})
		}
	}
	return v
}
