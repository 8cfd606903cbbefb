// Package apispec holds the JSON shapes of the daemon's HTTP API (Dify's paths
// and envelope), shared by the server (daemon/api) and its Go client
// (daemon/client).
package apispec

import (
	"encoding/json"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// Envelope wraps every JSON reply and every SSE frame.
type Envelope struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// ErrorBody is JSON-encoded into Envelope.Message when Code is not 0.
type ErrorBody struct {
	Message   string `json:"message"`
	ErrorType string `json:"error_type"`
	Args      any    `json:"args"`
}

// Envelope codes.
const (
	CodeOK           = 0
	CodeBadRequest   = -400
	CodeUnauthorized = -401
	CodeForbidden    = -403
	CodeNotFound     = -404
	CodeConflict     = -409
	CodeInternal     = -500
)

// Error types (Dify's names, plus ours for cases Dify lacks).
const (
	ErrBadRequest       = "PluginDaemonBadRequestError"
	ErrUnauthorized     = "PluginDaemonUnauthorizedError"
	ErrNotFound         = "PluginDaemonNotFoundError"
	ErrInternal         = "PluginDaemonInternalServerError"
	ErrPluginNotFound   = "PluginNotFoundError"
	ErrUniqueIdentifier = "PluginUniqueIdentifierError"
	ErrInvoke           = "PluginInvokeError"
	ErrPermissionDenied = "PluginPermissionDeniedError"
	ErrConnectionClosed = "ConnectionClosedError"
	ErrConflict         = "PluginDaemonConflictError"
	ErrUnavailable      = "PluginUnavailableError"
	ErrTimeout          = "PluginTimeoutError"
	ErrBusy             = "PluginBusyError" // every invocation slot in use (503, Retry-After)
)

// UploadResult answers install/upload/package.
type UploadResult struct {
	UniqueIdentifier string              `json:"unique_identifier"`
	Manifest         *plugboard.Manifest `json:"manifest"`
	Verification     *Verification       `json:"verification"`
	// Warnings are what the package declares that Dify accepts but looks
	// wrong, each naming its file, field and line (ours; Dify has none).
	Warnings []plugboard.Warning `json:"warnings"`
}

// Verification says who signed a package; nil when it is unsigned.
type Verification struct {
	AuthorizedCategory string `json:"authorized_category"`
}

// InstallRequest is the body of install/identifiers.
type InstallRequest struct {
	PluginUniqueIdentifiers []string         `json:"plugin_unique_identifiers"`
	Source                  string           `json:"source"`
	Metas                   []map[string]any `json:"metas"`
	// ConfirmCodeChange allows replacing an installed plugin with a package
	// of the same version but other code (another checksum); without it
	// such an install is refused as a conflict.
	ConfirmCodeChange bool `json:"confirm_code_change,omitempty"`
}

// InstallResult answers install/identifiers and install/upgrade.
type InstallResult struct {
	AllInstalled bool   `json:"all_installed"`
	TaskID       string `json:"task_id"`
}

// UpgradeRequest is the body of install/upgrade.
type UpgradeRequest struct {
	OriginalPluginUniqueIdentifier string         `json:"original_plugin_unique_identifier"`
	NewPluginUniqueIdentifier      string         `json:"new_plugin_unique_identifier"`
	Source                         string         `json:"source"`
	Meta                           map[string]any `json:"meta"`
	// ConfirmCodeChange allows a new package of the same version as the
	// original but with other code (see InstallRequest).
	ConfirmCodeChange bool `json:"confirm_code_change,omitempty"`
}

// PluginSettings are one plugin's settings (all its versions, every
// tenant): GET management/plugin/settings?plugin_id= answers them, POST
// management/plugin/settings sets them.
type PluginSettings struct {
	PluginID string `json:"plugin_id"`
	// InvokeTimeoutSeconds limits each invocation; 0 means the daemon's
	// default, DefaultInvokeTimeoutSeconds (read only).
	InvokeTimeoutSeconds        int `json:"invoke_timeout_seconds"`
	DefaultInvokeTimeoutSeconds int `json:"default_invoke_timeout_seconds"`
}

// MaxInvokeTimeoutSeconds is the longest invoke timeout a plugin may get (a day).
const MaxInvokeTimeoutSeconds = 24 * 60 * 60

// UninstallRequest is the body of uninstall.
type UninstallRequest struct {
	PluginInstallationID string `json:"plugin_installation_id"`
}

// Task statuses (of a task and of each plugin in it).
const (
	TaskPending = "pending"
	TaskRunning = "running"
	TaskSuccess = "success"
	TaskFailed  = "failed"
)

// Install stages reported in TaskPlugin.Stage while a plugin installs.
const (
	StageVerifying  = "verifying"
	StageExtracting = "extracting"
	StagePreparing  = "preparing environment"
	StageStarting   = "starting"
	StageReady      = "ready"
)

// Task is an asynchronous install or upgrade.
type Task struct {
	ID               string       `json:"id"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	Status           string       `json:"status"`
	TenantID         string       `json:"tenant_id"`
	TotalPlugins     int          `json:"total_plugins"`
	CompletedPlugins int          `json:"completed_plugins"`
	Plugins          []TaskPlugin `json:"plugins"`
}

// TaskPlugin is one plugin's progress within a Task.
type TaskPlugin struct {
	PluginUniqueIdentifier string         `json:"plugin_unique_identifier"`
	PluginID               string         `json:"plugin_id"`
	Labels                 plugboard.I18n `json:"labels"`
	Icon                   string         `json:"icon"`
	IconDark               string         `json:"icon_dark"`
	Status                 string         `json:"status"`
	Stage                  string         `json:"stage"`
	Message                string         `json:"message"`
	Source                 string         `json:"source"`
}

// Page is a page of a list.
type Page[T any] struct {
	List  []T `json:"list"`
	Total int `json:"total"`
}

// Installation is an installed plugin as list returns it.
type Installation struct {
	ID                     string              `json:"id"`
	InstallationID         string              `json:"installation_id"`
	TenantID               string              `json:"tenant_id"`
	PluginID               string              `json:"plugin_id"`
	PluginUniqueIdentifier string              `json:"plugin_unique_identifier"`
	Name                   string              `json:"name"`
	Version                string              `json:"version"`
	Checksum               string              `json:"checksum"`
	Category               string              `json:"category"`
	RuntimeType            string              `json:"runtime_type"`
	Source                 string              `json:"source"`
	Meta                   map[string]any      `json:"meta"`
	Declaration            *plugboard.Manifest `json:"declaration"`
	EndpointsActive        int                 `json:"endpoints_active"`
	EndpointsSetups        int                 `json:"endpoints_setups"`
	CreatedAt              time.Time           `json:"created_at"`
	UpdatedAt              time.Time           `json:"updated_at"`
	// Runtime is the plugin process's state (ours; Dify has none).
	Runtime *RuntimeStatus `json:"runtime,omitempty"`
}

// Runtime states.
const (
	StateStarting   = "starting"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateFailed     = "failed"
	StateStopped    = "stopped"
)

// RuntimeStatus is the supervisor's view of one plugin process.
type RuntimeStatus struct {
	State       string    `json:"state"`
	LastError   string    `json:"last_error,omitempty"`
	Restarts    int       `json:"restarts"`
	PID         int       `json:"pid,omitempty"`
	StartedAt   time.Time `json:"started_at,omitempty"`
	MemoryBytes int64     `json:"memory_bytes"`
	MemoryLimit int64     `json:"memory_limit"`
	InFlight    int       `json:"in_flight"`
	// Python is the interpreter a Python plugin runs on (ours; Dify has none).
	Python *Interpreter `json:"python,omitempty"`
	// Containment says what contains the process: Landlock, namespaces,
	// uid, cgroup limits (empty for a remote plugin).
	Containment string `json:"containment,omitempty"`
}

// Interpreter is the Python interpreter of a plugin's environment.
type Interpreter struct {
	Path    string `json:"path"`    // its executable
	Version string `json:"version"` // e.g. 3.12.1
	Source  string `json:"source"`  // where the daemon found it: configured, PATH, pyenv, uv
}

// LogEntry is one line of a plugin's stderr, or one of its log events.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Source  string    `json:"source"` // "stderr", "log" or "daemon"
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// ToolProviderEntry is one tool provider as tools and tool return it.
type ToolProviderEntry struct {
	ID                     string                  `json:"id"`
	PluginID               string                  `json:"plugin_id"`
	PluginUniqueIdentifier string                  `json:"plugin_unique_identifier"`
	Provider               string                  `json:"provider"`
	Declaration            *plugboard.ToolProvider `json:"declaration"`
	TenantID               string                  `json:"tenant_id"`
	CreatedAt              time.Time               `json:"created_at"`
	UpdatedAt              time.Time               `json:"updated_at"`
}

// ModelProviderEntry is one model provider as models and model return it
// (Dify's AIModelInstallation with its declaration attached, parsed by
// Dify's API as PluginModelProviderEntity).
type ModelProviderEntry struct {
	ID                     string                   `json:"id"`
	CreatedAt              time.Time                `json:"created_at"`
	UpdatedAt              time.Time                `json:"updated_at"`
	Provider               string                   `json:"provider"`
	TenantID               string                   `json:"tenant_id"`
	PluginUniqueIdentifier string                   `json:"plugin_unique_identifier"`
	PluginID               string                   `json:"plugin_id"`
	Declaration            *plugboard.ModelProvider `json:"declaration"`
}

// InvokeRequest is the body of every dispatch route (Dify's InvokePluginRequest).
type InvokeRequest[T any] struct {
	UserID         string          `json:"user_id"`
	ConversationID *string         `json:"conversation_id"`
	MessageID      *string         `json:"message_id"`
	AppID          *string         `json:"app_id"`
	EndpointID     *string         `json:"endpoint_id"`
	Context        json.RawMessage `json:"context,omitempty"`
	Data           T               `json:"data"`
}

// InvokeToolData is the data of tool/invoke.
type InvokeToolData struct {
	Provider       string         `json:"provider"`
	Tool           string         `json:"tool"`
	ToolParameters map[string]any `json:"tool_parameters"`
	Credentials    map[string]any `json:"credentials"`
	CredentialType string         `json:"credential_type"`
}

// InvokeAgentStrategyData is the data of agent_strategy/invoke: the
// strategy provider's name (without the plugin id), the strategy and its
// parameters.
type InvokeAgentStrategyData struct {
	AgentStrategyProvider string         `json:"agent_strategy_provider"`
	AgentStrategy         string         `json:"agent_strategy"`
	AgentStrategyParams   map[string]any `json:"agent_strategy_params"`
}

// ValidateCredentialsData is the data of tool/validate_credentials.
type ValidateCredentialsData struct {
	Provider    string         `json:"provider"`
	Credentials map[string]any `json:"credentials"`
}

// RuntimeParametersData is the data of tool/get_runtime_parameters.
type RuntimeParametersData struct {
	Provider    string         `json:"provider"`
	Tool        string         `json:"tool"`
	Credentials map[string]any `json:"credentials"`
}

// ModelData is the data of every model dispatch route (llm/invoke,
// text_embedding/invoke, model/schema …), as Dify's API sends it: the
// provider (its bare name, the plugin is X-Plugin-ID), the credentials and
// the fields of the route's request (protocol.ModelRequest, whose comments
// say which route reads which).
type ModelData struct {
	Provider    string         `json:"provider"`
	Credentials map[string]any `json:"credentials"`
	// CredentialType is checked (api-key, oauth2 or unauthorized) but not
	// sent on: the SDK's model requests have none.
	CredentialType string `json:"credential_type,omitempty"`
	protocol.ModelRequest
}

// Health answers /health/check.
type Health struct {
	Status         string `json:"status"`
	Platform       string `json:"platform"`
	Version        string `json:"version"`
	Plugins        int    `json:"plugins"`
	ActiveRequests int64  `json:"active_requests"`
}

// Plugboard's own stream events, sent only to a client that asks for them
// with HeaderEvents (Dify's API reads every SSE line as a data frame, so an
// event line it did not ask for would break it).
const (
	// HeaderEvents lists the extra events a dispatch client wants,
	// comma-separated: EventsCallBack.
	HeaderEvents = "X-Plugboard-Events"
	// EventsCallBack asks for a CallBackEvent after each call back the
	// plugin makes during the invocation.
	EventsCallBack = "call-back"
	// EventCallBack is the SSE event name of a CallBackEvent frame.
	EventCallBack = "plugboard_call_back"
)

// CallBackEvent reports one call back a plugin made during an invocation:
// its type, how long it took, and how it ended (the error's text when it
// failed; never the request or the answer).
type CallBackEvent struct {
	Type       string `json:"type"`
	DurationMs int64  `json:"duration_ms"`
	Outcome    string `json:"outcome"` // ok or error
	Error      string `json:"error,omitempty"`
	Frames     int    `json:"frames"` // response frames sent to the plugin
}

// MCPServerRequest adds an MCP server as a tool provider
// (POST management/mcp/servers): its name (the provider's, plugin id
// mcp/<name>) and either the command with its arguments (stdio) and its
// environment — as NAME=value entries in Env, or, to keep the values out
// of the daemon, fetched at each start from Relay, a path on the platform
// (PlatformURL) answering a JSON list of them —, or only Relay, a path on
// the platform that relays Streamable HTTP to the server (the platform
// holds its address and secrets and applies its outbound guard). The
// platform asks for RelayToken. The answer is the Installation.
type MCPServerRequest struct {
	Name       string   `json:"name"`
	Command    []string `json:"command,omitempty"`
	Env        []string `json:"env,omitempty"`
	Relay      string   `json:"relay,omitempty"`
	RelayToken string   `json:"relay_token,omitempty"`
}
