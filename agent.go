package plugboard

// AgentStrategyProvider is an agent strategy provider yaml (Dify's
// AgentStrategyProviderDeclaration) with its strategies.
type AgentStrategyProvider struct {
	Identity   ProviderIdentity `yaml:"identity" json:"identity"`
	Strategies []AgentStrategy  `yaml:"-" json:"strategies"`
	// StrategyFiles are the strategy yaml paths the provider names.
	StrategyFiles []string `yaml:"-" json:"-"`
}

// AgentStrategy is one strategy yaml (Dify's AgentStrategyDeclaration).
type AgentStrategy struct {
	Identity     ToolIdentity   `yaml:"identity" json:"identity"`
	Description  I18n           `yaml:"description" json:"description"`
	Parameters   []Input        `yaml:"parameters" json:"parameters"`
	OutputSchema map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
	Features     []string       `yaml:"features" json:"features"`
}
