package plugboard

import (
	"encoding/json"
	"maps"
)

// FillDefaults applies Dify's defaults (its FillInDefaultValues): empty
// lists instead of none, and a tool or trigger provider without tags or an
// English description takes the manifest's. Decoding a package fills them
// in, and so does reading a declaration from JSON or writing one.
func (m *Manifest) FillDefaults() {
	if m.Tags == nil {
		m.Tags = []string{}
	}
	if m.Tool != nil {
		m.Tool.Identity.fillFrom(m)
	}
	if m.Trigger != nil {
		m.Trigger.Identity.fillFrom(m)
	}
	if m.Model != nil {
		if m.Model.Description == nil {
			m.Model.Description = maps.Clone(m.Description)
		}
		m.Model.FillDefaults()
	}
	if m.AgentStrategy != nil && m.AgentStrategy.Identity.Tags == nil {
		m.AgentStrategy.Identity.Tags = []string{}
	}
	if m.Datasource != nil && m.Datasource.Identity.Tags == nil {
		m.Datasource.Identity.Tags = []string{}
	}
}

// fillFrom gives a tool or trigger provider the manifest's description when
// it has no English one, and the manifest's tags when it has none.
func (id *ProviderIdentity) fillFrom(m *Manifest) {
	if id.Description.English() == "" {
		id.Description = maps.Clone(m.Description)
	}
	id.Tags = providerTags(id.Tags, m.Tags)
}

// providerTags is a provider's own tags, or the manifest's when it has none.
func providerTags(own, manifest []string) []string {
	if len(own) > 0 {
		return own
	}
	return append([]string{}, manifest...)
}

// MarshalJSON writes the declaration with Dify's defaults filled in, also
// for one stored before they were.
func (m Manifest) MarshalJSON() ([]byte, error) {
	type plain Manifest
	c := plain(m)
	if c.Tool != nil {
		t := *c.Tool
		c.Tool = &t
	}
	if c.Trigger != nil {
		t := *c.Trigger
		c.Trigger = &t
	}
	if c.Model != nil {
		t := *c.Model
		c.Model = &t
	}
	(*Manifest)(&c).FillDefaults()
	return json.Marshal(c)
}

// UnmarshalJSON reads a declaration (a stored one, or a remote plugin's)
// and fills in Dify's defaults.
func (m *Manifest) UnmarshalJSON(data []byte) error {
	type plain Manifest
	if err := json.Unmarshal(data, (*plain)(m)); err != nil {
		return err
	}
	m.FillDefaults()
	return nil
}

// MarshalJSON writes the provider with empty lists instead of none.
func (p ToolProvider) MarshalJSON() ([]byte, error) {
	type plain ToolProvider
	c := plain(p)
	if c.Credentials == nil {
		c.Credentials = []CredentialField{}
	}
	if c.Tools == nil {
		c.Tools = []Tool{}
	}
	if c.Identity.Tags == nil {
		c.Identity.Tags = []string{}
	}
	return json.Marshal(c)
}

// MarshalJSON writes the parameter with options and show_on [] when it has
// none, as Dify does.
func (p Parameter) MarshalJSON() ([]byte, error) {
	type plain Parameter
	c := plain(p)
	if c.Options == nil {
		c.Options = []Option{}
	}
	if c.ShowOn == nil {
		c.ShowOn = []map[string]any{}
	}
	return json.Marshal(c)
}
