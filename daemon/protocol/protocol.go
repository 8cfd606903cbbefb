// Package protocol holds the runtime protocol spoken between the daemon and a
// plugin process: newline-delimited JSON over stdin/stdout (or TCP for remote
// debugging), compatible with Dify's plugin daemon and SDK.
package protocol

import "encoding/json"

// Event names. Requests and cancels go daemon → plugin; the rest plugin → daemon.
const (
	EventRequest   = "request"
	EventCancel    = "cancel"
	EventHeartbeat = "heartbeat"
	EventLog       = "log"
	EventError     = "error"
	EventSession   = "session"
)

// Session message types carried inside a "session" event.
const (
	SessionStream = "stream"
	SessionEnd    = "end"
	SessionError  = "error"
	SessionInvoke = "invoke"
)

// Request types and actions understood by tool plugins.
const (
	TypeTool                       = "tool"
	ActionInvokeTool               = "invoke_tool"
	ActionValidateToolCredentials  = "validate_tool_credentials"
	ActionGetToolRuntimeParameters = "get_tool_runtime_parameters"
)

// Request is the daemon → plugin line that starts a session (a Cancel line
// decodes into it too, with Data nil).
type Request struct {
	SessionID      string          `json:"session_id"`
	ConversationID *string         `json:"conversation_id"`
	MessageID      *string         `json:"message_id"`
	AppID          *string         `json:"app_id"`
	EndpointID     *string         `json:"endpoint_id"`
	Context        json.RawMessage `json:"context,omitempty"`
	Event          string          `json:"event"`
	Data           *RequestData    `json:"data,omitempty"`
}

// Cancel is the daemon → plugin line that stops a session (Event is
// EventCancel): Plugboard's extension, which Dify's SDK refuses.
type Cancel struct {
	SessionID string `json:"session_id"`
	Event     string `json:"event"`
}

// RequestData is the flattened request body Dify's SDK routes on (type, action).
// Its fields are those of the SDK's pydantic request models; Wire fills in
// what those models require.
type RequestData struct {
	UserID         string         `json:"user_id"`
	Type           string         `json:"type"`
	Action         string         `json:"action"`
	Provider       string         `json:"provider"`
	Tool           string         `json:"tool,omitempty"`
	ToolParameters map[string]any `json:"tool_parameters,omitzero"`
	Credentials    map[string]any `json:"credentials"`
	CredentialType string         `json:"credential_type,omitempty"`
	// ModelRequest holds a model request's own fields (type model); nil
	// for the other types, whose lines it leaves as they were.
	*ModelRequest
	// AgentStrategyRequest holds an agent strategy's (type
	// agent_strategy); nil for the other types.
	*AgentStrategyRequest
	// SessionContext is the request line's context (Dify's SessionContext,
	// e.g. {"credentials": {"tool_credentials": {provider: credential id}}}),
	// a JSON object; nil sends {}. It is not part of the data.
	SessionContext json.RawMessage `json:"-"`
}

// Credential types: how a tool's credentials were obtained (Dify's
// CredentialType; the SDK refuses any other value, the empty one included).
const (
	CredentialAPIKey       = "api-key"
	CredentialOAuth2       = "oauth2"
	CredentialUnauthorized = "unauthorized"
)

// ValidCredentialType reports whether t is a credential type the SDK accepts.
func ValidCredentialType(t string) bool {
	return t == CredentialAPIKey || t == CredentialOAuth2 || t == CredentialUnauthorized
}

// Wire returns a copy of d as Dify's SDK validates it: credentials is always
// an object; invoke_tool always carries tool_parameters (an object) and a
// credential_type (api-key unless another was given, as Dify sends). The
// other actions' models have no credential_type, so none is sent for them.
// A model request gets what its action's model requires (ModelRequest.wire).
func (d RequestData) Wire() RequestData {
	if d.Credentials == nil {
		d.Credentials = map[string]any{}
	}
	if d.ModelRequest != nil {
		d.ModelRequest = d.ModelRequest.wire(d.Action)
	}
	if d.Action != ActionInvokeTool {
		d.CredentialType = ""
		return d
	}
	if d.ToolParameters == nil {
		d.ToolParameters = map[string]any{}
	}
	if d.CredentialType == "" {
		d.CredentialType = CredentialAPIKey
	}
	return d
}

// Event is one plugin → daemon line.
type Event struct {
	Event     string          `json:"event"`
	SessionID string          `json:"session_id,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// SessionData is the payload of a "session" event.
type SessionData struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// LogData is the payload of a "log" event.
type LogData struct {
	Level     string  `json:"level"`
	Message   string  `json:"message"`
	Timestamp float64 `json:"timestamp"`
}

// ErrorData is the payload of a session "error" (and of an instance "error" event).
type ErrorData struct {
	ErrorType string `json:"error_type"`
	Message   string `json:"message"`
	Args      any    `json:"args,omitempty"`
}

// Tool message types: the "type" of a ToolMessage.
const (
	MessageText       = "text"
	MessageJSON       = "json"
	MessageLink       = "link"
	MessageImage      = "image"
	MessageImageLink  = "image_link"
	MessageBinaryLink = "binary_link"
	MessageBlob       = "blob"
	MessageBlobChunk  = "blob_chunk"
	MessageVariable   = "variable"
	MessageLog        = "log"
	MessageFile       = "file"
)

// MaxBlobChunk is the largest blob_chunk payload a plugin may send.
const MaxBlobChunk = 8 << 10

// ToolMessage is one chunk of a tool's output stream.
type ToolMessage struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
	Meta    map[string]any  `json:"meta"`
}

// TextMessage is the message of text, link, image and image_link chunks.
type TextMessage struct {
	Text string `json:"text"`
}

// JSONMessage is the message of a json chunk.
type JSONMessage struct {
	JSONObject any `json:"json_object"`
}

// BlobMessage is the message of a blob chunk; Blob is base64 on the wire.
type BlobMessage struct {
	Blob []byte `json:"blob"`
}

// BlobChunkMessage is one piece of a blob sent in pieces of at most MaxBlobChunk bytes.
type BlobChunkMessage struct {
	ID          string `json:"id"`
	Sequence    int    `json:"sequence"`
	TotalLength int    `json:"total_length"`
	Blob        []byte `json:"blob"`
	End         bool   `json:"end"`
}

// VariableMessage sets (or, when Stream, appends to) a named variable.
type VariableMessage struct {
	VariableName  string `json:"variable_name"`
	VariableValue any    `json:"variable_value"`
	Stream        bool   `json:"stream"`
}

// LogMessage is a node of the tree of log entries a tool may emit.
type LogMessage struct {
	ID       string         `json:"id"`
	Label    string         `json:"label"`
	ParentID string         `json:"parent_id,omitempty"`
	Error    string         `json:"error,omitempty"`
	Status   string         `json:"status"`
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// ValidateResult is the single chunk answering validate_tool_credentials.
type ValidateResult struct {
	Result bool `json:"result"`
}

// EventBackwardsResponse is the daemon → plugin event answering a plugin's
// call back (a session message of type invoke).
const EventBackwardsResponse = "backwards_response"

// The events of a backwards response: each call back gets any number of
// response frames or one error, then always one end.
const (
	BackwardsResponse = "response"
	BackwardsError    = "error"
	BackwardsEnd      = "end"
)

// The message of a response frame: a streamed chunk or a single object.
const (
	BackwardsStream = "stream"
	BackwardsStruct = "struct"
)

// BackwardsLine is the daemon → plugin line of a backwards response, shaped
// as Dify's daemon writes it (the optional envelope fields as null).
type BackwardsLine struct {
	SessionID      string         `json:"session_id"`
	ConversationID *string        `json:"conversation_id"`
	MessageID      *string        `json:"message_id"`
	AppID          *string        `json:"app_id"`
	EndpointID     *string        `json:"endpoint_id"`
	Context        any            `json:"context"`
	Event          string         `json:"event"`
	Data           BackwardsFrame `json:"data"`
}

// BackwardsFrame is a backwards response's data: which call back it
// answers, the event, a message (the frame's kind, or an error's text) and
// the data (null for error and end).
type BackwardsFrame struct {
	RequestID string `json:"backwards_request_id"`
	Event     string `json:"event"`
	Message   string `json:"message"`
	Data      any    `json:"data"`
}

// InvokeData is the data of a plugin's invoke session message: the call
// back's type, the id its response frames carry, and its request.
type InvokeData struct {
	Type      string         `json:"type"`
	RequestID string         `json:"backwards_request_id"`
	Request   map[string]any `json:"request"`
}
