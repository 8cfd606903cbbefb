package plugboard

// TriggerProvider is a trigger provider yaml (Dify's
// TriggerProviderDeclaration) with its triggers (also called events).
type TriggerProvider struct {
	Identity    ProviderIdentity  `yaml:"identity" json:"identity"`
	Credentials []CredentialField `yaml:"-" json:"credentials_schema"`
	OAuthSchema *OAuthSchema      `yaml:"-" json:"oauth_schema,omitempty"`
	// SubscriptionSchema is {parameters_schema, properties_schema}, as
	// written (a bare list is the properties schema, as the SDK reads it).
	SubscriptionSchema      map[string]any `yaml:"-" json:"subscription_schema"`
	SubscriptionConstructor map[string]any `yaml:"subscription_constructor" json:"subscription_constructor,omitempty"`
	Triggers                []Trigger      `yaml:"-" json:"triggers"`
	// TriggerFiles are the trigger yaml paths the provider names.
	TriggerFiles []string `yaml:"-" json:"-"`
}

// Trigger is one trigger (event) yaml (Dify's TriggerDeclaration).
type Trigger struct {
	Identity ToolIdentity `yaml:"identity" json:"identity"`
	// Description is {human, llm} (each i18n), or one i18n text.
	Description  map[string]any `yaml:"description" json:"description"`
	Parameters   []Input        `yaml:"parameters" json:"parameters"`
	OutputSchema map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
}

// HumanDescription returns the English description for people.
func (t Trigger) HumanDescription() string {
	if h, ok := t.Description["human"].(map[string]any); ok {
		s, _ := h["en_US"].(string)
		return s
	}
	s, _ := t.Description["en_US"].(string)
	return s
}
