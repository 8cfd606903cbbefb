// Package models is the application service for model providers: the
// installed providers with their models (from the daemon), their
// credentials and customizable models (validated by the plugin, then
// sealed in the store), the workspace's default model per type, and
// Credentials — the one function that opens "the credentials for
// (provider, model)" in memory, which the model playground, the agent and
// plugins calling back all use.
package models

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// DefaultTypes are the model types the workspace keeps a default of, in
// the order the Models page lists them.
var DefaultTypes = []string{
	plugboard.ModelLLM, plugboard.ModelTextEmbedding, plugboard.ModelRerank,
	plugboard.ModelTTS, plugboard.ModelSpeech2Text,
}

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	// Keys seals and opens the credentials' secrets (nil: none can be
	// saved or opened).
	Keys   *secret.Keyring
	Logger *slog.Logger
}

// Service manages model providers' credentials, customizable models and
// default models, and the model playground's chats and their history. It
// runs no goroutines.
type Service struct {
	store  *store.DB
	daemon *client.Client
	creds  *store.ModelCredentials
	log    *slog.Logger

	mu      sync.Mutex
	schemas map[string]*plugboard.ModelDeclaration // customizable models', by schemaKey
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{store: cfg.Store, daemon: cfg.Daemon, log: cfg.Logger, schemas: map[string]*plugboard.ModelDeclaration{}}
	if cfg.Store != nil && cfg.Keys != nil {
		s.creds = cfg.Store.ModelCredentials(cfg.Keys)
	}
	return s
}

// Provider is an installed plugin's model provider with what is saved for
// it.
type Provider struct {
	PluginID string
	// UniqueIdentifier is the installed package's identifier (for icons).
	UniqueIdentifier string
	Decl             *plugboard.ModelProvider
	// Credential is the provider's saved credential, nil when none.
	Credential *store.ModelCredential
	// Custom are the customizable models saved for it.
	Custom []*store.ModelCredential
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.Decl.Provider }

// Label is the provider's English label, else its name.
func (p *Provider) Label() string { return cmp.Or(p.Decl.Label.English(), p.Decl.Provider) }

// Target names the provider as the audit log and messages do.
func (p *Provider) Target() string { return p.PluginID + "/" + p.Decl.Provider }

// CredentialSchema is the provider's credential form (nil when it has
// none).
func (p *Provider) CredentialSchema() []plugboard.CredentialFormSchema {
	if p.Decl.ProviderCredentialSchema == nil {
		return nil
	}
	return p.Decl.ProviderCredentialSchema.CredentialFormSchemas
}

// ModelSchema is the form of a customizable model's credentials (nil when
// the provider takes no customizable models).
func (p *Provider) ModelSchema() *plugboard.ModelCredentialSchema {
	if !p.Customizable() {
		return nil
	}
	return p.Decl.ModelCredentialSchema
}

// Predefined reports whether the provider ships models of its own.
func (p *Provider) Predefined() bool {
	return slices.Contains(p.Decl.ConfigurateMethods, plugboard.ConfiguratePredefined) || len(p.Decl.Models) > 0
}

// Customizable reports whether users may add models to the provider.
func (p *Provider) Customizable() bool {
	return slices.Contains(p.Decl.ConfigurateMethods, plugboard.ConfigurateCustomizable) && p.Decl.ModelCredentialSchema != nil
}

// Ready reports whether the provider's predefined models can be called:
// it needs no credential, or one is saved.
func (p *Provider) Ready() bool {
	return p.Credential != nil || len(p.CredentialSchema()) == 0
}

// ModelRef names one model a caller may pick.
type ModelRef struct {
	PluginID  string
	Provider  string
	ModelType string
	Model     string
	// Label is the model's English label with its provider's.
	Label string
}

// Key is the ref as one form value (plugin id, provider, model joined by
// "|"), read back by ParseKey.
func (r ModelRef) Key() string { return r.PluginID + "|" + r.Provider + "|" + r.Model }

// ParseKey reads a ModelRef.Key of the given model type.
func ParseKey(modelType, key string) (ModelRef, bool) {
	parts := strings.SplitN(key, "|", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ModelRef{}, false
	}
	return ModelRef{PluginID: parts[0], Provider: parts[1], ModelType: modelType, Model: parts[2]}, true
}

// Models returns the models of one type a caller can use now: the
// predefined ones of ready providers (deprecated ones last) and the
// customizable models.
func Models(providers []*Provider, modelType string) []ModelRef {
	var out, deprecated []ModelRef
	for _, p := range providers {
		if p.Ready() {
			for _, m := range p.Decl.ModelsOf(modelType) {
				r := ModelRef{PluginID: p.PluginID, Provider: p.Name(), ModelType: modelType, Model: m.Model,
					Label: cmp.Or(m.Label.English(), m.Model) + " — " + p.Label()}
				if m.Deprecated {
					r.Label += " (deprecated)"
					deprecated = append(deprecated, r)
				} else {
					out = append(out, r)
				}
			}
		}
		for _, c := range p.Custom {
			if c.ModelType == modelType {
				out = append(out, ModelRef{PluginID: p.PluginID, Provider: p.Name(), ModelType: modelType, Model: c.Model,
					Label: c.Model + " — " + p.Label()})
			}
		}
	}
	return append(out, deprecated...)
}

// Providers lists the installed model providers with their saved
// credentials and customizable models, by label.
func (s *Service) Providers(ctx context.Context) ([]*Provider, error) {
	entries, err := s.daemon.Models(ctx, 1, 256)
	if err != nil {
		return nil, err
	}
	saved, err := s.saved(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []*Provider
	for _, e := range entries {
		if e.Declaration != nil {
			out = append(out, s.provider(e, saved))
		}
	}
	slices.SortFunc(out, func(a, b *Provider) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Label()), strings.ToLower(b.Label())), cmp.Compare(a.PluginID, b.PluginID))
	})
	return out, nil
}

// Provider returns one installed model provider; not_found when the plugin
// is not installed or has no such provider.
func (s *Service) Provider(ctx context.Context, pluginID, provider string) (*Provider, error) {
	e, err := s.daemon.Model(ctx, pluginID, provider)
	if err != nil {
		if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has a model provider %q.", pluginID, provider)
		}
		return nil, err
	}
	if e.Declaration == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has a model provider %q.", pluginID, provider)
	}
	saved, err := s.saved(ctx, pluginID)
	if err != nil {
		return nil, err
	}
	return s.provider(*e, saved), nil
}

func (s *Service) saved(ctx context.Context, pluginID string) ([]*store.ModelCredential, error) {
	if s.creds == nil {
		return nil, nil
	}
	return s.creds.FindModelCredentials(ctx, pluginID)
}

func (s *Service) provider(e apispec.ModelProviderEntry, saved []*store.ModelCredential) *Provider {
	p := &Provider{PluginID: e.PluginID, UniqueIdentifier: e.PluginUniqueIdentifier, Decl: e.Declaration}
	for _, c := range saved {
		if c.PluginID != p.PluginID || c.Provider != p.Name() {
			continue
		}
		if c.Customizable() {
			p.Custom = append(p.Custom, c)
		} else {
			p.Credential = c
		}
	}
	return p
}

// keys returns the credential store or says why there is none.
func (s *Service) keys() (*store.ModelCredentials, error) {
	if s.creds == nil {
		return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "Secrets cannot be stored: the app has no secret key.")
	}
	return s.creds, nil
}

// SaveProviderCredential checks the submitted fields against the
// provider's credential form, asks the plugin to validate them
// (validate_provider_credentials) and saves them. Secrets sent back as the
// stored value's mask keep the stored value. Field problems come back as
// *FieldErrors; a refusal as an invalid error with the plugin's message,
// its secrets masked.
func (s *Service) SaveProviderCredential(ctx context.Context, actor string, p *Provider, raw map[string]string) (*store.ModelCredential, error) {
	cs, err := s.keys()
	if err != nil {
		return nil, err
	}
	var stored map[string]any
	if p.Credential != nil {
		stored, _, _ = cs.OpenModelCredential(ctx, p.PluginID, p.Name(), "", "")
	}
	values, secrets, ferrs := ParseFields(p.CredentialSchema(), "", raw, stored)
	if len(ferrs) > 0 {
		return nil, ferrs
	}
	all := merge(values, secrets)
	res, err := s.daemon.ValidateProviderCredentials(ctx, p.PluginID, p.Name(), all, actor)
	if err := refusal(res, err, secrets); err != nil {
		return nil, err
	}
	return cs.SaveModelCredential(ctx, actor, store.ModelCredentialInput{PluginID: p.PluginID, Provider: p.Name(),
		Values: values, Secrets: secrets})
}

// SaveCustomModel checks a customizable model's fields against the
// provider's model form, asks the plugin to validate them
// (validate_model_credentials) and saves the model, as
// SaveProviderCredential does for the provider. Saving a model of the
// same type and name again replaces its fields.
func (s *Service) SaveCustomModel(ctx context.Context, actor string, p *Provider, modelType, model string, raw map[string]string) (*store.ModelCredential, error) {
	cs, err := s.keys()
	if err != nil {
		return nil, err
	}
	schema := p.ModelSchema()
	if schema == nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s takes no customizable models.", p.Label())
	}
	ferrs := FieldErrors{}
	model = strings.TrimSpace(model)
	if model == "" {
		ferrs[ModelField] = cmp.Or(schema.Model.Label.English(), "Model name") + " is required."
	}
	if !slices.Contains(p.Decl.SupportedModelTypes, modelType) {
		ferrs[ModelTypeField] = "Pick one of the model types " + p.Label() + " supports."
	}
	var stored map[string]any
	if model != "" {
		stored, _, _ = cs.OpenModelCredential(ctx, p.PluginID, p.Name(), modelType, model)
	}
	values, secrets, fe := ParseFields(schema.CredentialFormSchemas, modelType, raw, stored)
	for k, v := range fe {
		ferrs[k] = v
	}
	if len(ferrs) > 0 {
		return nil, ferrs
	}
	data := apispec.ModelData{Provider: p.Name(), Credentials: merge(values, secrets),
		ModelRequest: protocol.ModelRequest{ModelType: modelType, Model: model}}
	res, err := s.daemon.ValidateModelCredentials(ctx, p.PluginID, data, actor)
	if err := refusal(res, err, secrets); err != nil {
		return nil, err
	}
	return cs.SaveModelCredential(ctx, actor, store.ModelCredentialInput{PluginID: p.PluginID, Provider: p.Name(),
		ModelType: modelType, Model: model, Values: values, Secrets: secrets})
}

// refusal words a validation that did not pass: the plugin's message, or
// why it could not be asked. Secrets are masked in it.
func refusal(res *protocol.CredentialsResult, err error, secrets map[string]string) error {
	if err == nil && res != nil && res.Result {
		return nil
	}
	msg := "The plugin did not accept these credentials."
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		if _, m := ce.PluginError(); m != "" {
			msg = "The plugin rejected these credentials: " + m
		} else if ce.Type == apispec.ErrInvoke {
			msg = "The plugin rejected these credentials: " + plugboard.ErrorMessage(err)
		} else {
			msg = "The credentials could not be checked, so nothing was saved: " + plugboard.ErrorMessage(err)
		}
	case err != nil:
		msg = "The credentials could not be checked, so nothing was saved: " + plugboard.ErrorMessage(err)
	}
	return plugboard.Errorf(plugboard.EINVALID, "%s", Redact(msg, secrets))
}

// Redact replaces every secret in msg with its mask, in case a plugin's
// message quotes the key it rejected.
func Redact(msg string, secrets map[string]string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, secret.Mask(s))
		}
	}
	return msg
}

func merge(values map[string]any, secrets map[string]string) map[string]any {
	all := make(map[string]any, len(values)+len(secrets))
	for k, v := range values {
		all[k] = v
	}
	for k, v := range secrets {
		all[k] = v
	}
	return all
}

// DeleteCredential removes the provider's credential (modelType and model
// "") or a customizable model.
func (s *Service) DeleteCredential(ctx context.Context, actor string, p *Provider, modelType, model string) error {
	cs, err := s.keys()
	if err != nil {
		return err
	}
	return cs.DeleteModelCredential(ctx, actor, p.PluginID, p.Name(), modelType, model)
}

// Defaults returns the workspace's default model by type.
func (s *Service) Defaults(ctx context.Context) (map[string]store.DefaultModel, error) {
	return s.store.DefaultModels(ctx)
}

// SetDefault makes ref the default of its type, after checking it is a
// model the workspace can call now (Credentials resolves it); a ref with
// no Model clears the type's default.
func (s *Service) SetDefault(ctx context.Context, actor string, ref ModelRef) error {
	if !slices.Contains(DefaultTypes, ref.ModelType) {
		return plugboard.Errorf(plugboard.EINVALID, "There is no default %q model; the types are %s.", ref.ModelType, strings.Join(DefaultTypes, ", "))
	}
	if ref.Model != "" {
		if _, err := s.Credentials(ctx, ref.PluginID, ref.Provider, ref.ModelType, ref.Model); err != nil {
			return err
		}
	}
	return s.store.SetDefaultModel(ctx, actor, store.DefaultModel{ModelType: ref.ModelType,
		PluginID: ref.PluginID, Provider: ref.Provider, Model: ref.Model})
}

// Resolved is a model ready to call: which plugin serves it and its
// credentials, opened in memory.
type Resolved struct {
	ModelRef
	// Credentials are the fields to send, secrets in plain text. Keep them
	// in memory only.
	Credentials map[string]any
	// Secrets are the plain secret values alone, to redact them from what
	// the model sends back.
	Secrets []string
	// Declaration is the predefined model's declaration, nil for a
	// customizable model (ask the plugin's model/schema).
	Declaration *plugboard.ModelDeclaration
}

// Credentials resolves "the credentials for (provider, model)": a
// customizable model saved under that type and name has its own; a
// predefined model of the provider uses the provider's credential (none
// when its form is empty). It is not_found when the provider has no such
// model, invalid when the provider needs a credential not saved yet.
func (s *Service) Credentials(ctx context.Context, pluginID, provider, modelType, model string) (*Resolved, error) {
	p, err := s.Provider(ctx, pluginID, provider)
	if err != nil {
		return nil, err
	}
	ref := ModelRef{PluginID: pluginID, Provider: provider, ModelType: modelType, Model: model}
	for _, c := range p.Custom {
		if c.ModelType == modelType && c.Model == model {
			cs, err := s.keys()
			if err != nil {
				return nil, err
			}
			values, secrets, err := cs.OpenModelCredential(ctx, pluginID, provider, modelType, model)
			if err != nil {
				return nil, err
			}
			ref.Label = model + " — " + p.Label()
			return &Resolved{ModelRef: ref, Credentials: values, Secrets: secrets}, nil
		}
	}
	decl := p.Decl.Find(modelType, model)
	if decl == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s has no %s model %q.", p.Label(), modelType, model)
	}
	ref.Label = cmp.Or(decl.Label.English(), model) + " — " + p.Label()
	r := &Resolved{ModelRef: ref, Credentials: map[string]any{}, Declaration: decl}
	if p.Credential == nil {
		if len(p.CredentialSchema()) > 0 {
			return nil, plugboard.Errorf(plugboard.EINVALID, "%s needs its credential first: add it on the Models page.", p.Label())
		}
		return r, nil
	}
	cs, err := s.keys()
	if err != nil {
		return nil, err
	}
	if r.Credentials, r.Secrets, err = cs.OpenModelCredential(ctx, pluginID, provider, "", ""); err != nil {
		return nil, err
	}
	return r, nil
}

// Default resolves the workspace's default model of a type; not_found when
// none is set.
func (s *Service) Default(ctx context.Context, modelType string) (*Resolved, error) {
	defs, err := s.Defaults(ctx)
	if err != nil {
		return nil, err
	}
	d, ok := defs[modelType]
	if !ok {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no default %s model yet; pick one on the Models page.", modelType)
	}
	return s.Credentials(ctx, d.PluginID, d.Provider, d.ModelType, d.Model)
}
