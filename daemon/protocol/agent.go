package protocol

// Request type and action of agent-strategy plugins (Dify's
// dispatch/agent_strategy/invoke).
const (
	TypeAgentStrategy         = "agent_strategy"
	ActionInvokeAgentStrategy = "invoke_agent_strategy"
)

// AgentStrategyRequest is an agent-strategy request's own fields, as
// Dify's daemon flattens them into the request line: the provider (its
// name, without the plugin id), the strategy and its parameters (model,
// tools, instruction, query, maximum_iterations …). The answer is a
// stream of tool messages (text, json, log …).
type AgentStrategyRequest struct {
	AgentStrategyProvider string         `json:"agent_strategy_provider"`
	AgentStrategy         string         `json:"agent_strategy"`
	AgentStrategyParams   map[string]any `json:"agent_strategy_params"`
}
