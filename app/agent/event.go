package agent

import "github.com/plugboard/plugboard/daemon/protocol"

// Event types, in the order a step makes them.
const (
	// EventStep: a step (model turn) starts; Step is its number.
	EventStep = "step"
	// EventText: a piece of the model's text (Text).
	EventText = "text"
	// EventToolCall: a tool call starts (Call, with its arguments).
	EventToolCall = "tool_call"
	// EventToolOutput: one message of a running tool (Call's ID, Output).
	EventToolOutput = "tool_output"
	// EventCallBack: a running tool (Call's ID) or a strategy plugin (no
	// Call) called back into the platform (CallBack).
	EventCallBack = "call_back"
	// EventToolResult: a tool call ended (Call, with its observation).
	EventToolResult = "tool_result"
	// EventStepDone: the step ended (StepInfo: usage and timings).
	EventStepDone = "step_done"
	// EventEnd: the run ended (End).
	EventEnd = "end"
)

// Event is something that happened in a run, for its followers.
type Event struct {
	Seq      int       `json:"seq"`
	Type     string    `json:"type"`
	Step     int       `json:"step,omitempty"`
	Text     string    `json:"text,omitempty"`
	Call     *ToolCall `json:"call,omitempty"`
	Output   *Output   `json:"output,omitempty"`
	CallBack *CallBack `json:"call_back,omitempty"`
	StepInfo *Step     `json:"step_info,omitempty"`
	End      *End      `json:"end,omitempty"`
}

// Output is one message of a tool as it streams (redacted by app/invoke):
// its type and its text, JSON or file name.
type Output struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	JSON     any    `json:"json,omitempty"`
	Filename string `json:"filename,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Size     int    `json:"size,omitempty"`
}

// End is how a run ended.
type End struct {
	Status      string `json:"status"`
	Answer      string `json:"answer,omitempty"`
	Error       string `json:"error,omitempty"`
	TotalTokens int    `json:"total_tokens"`
}

// Step is one recorded step: the model's turn and the tool calls it asked
// for, with usage and timings (milliseconds). LoopMS is the step's own
// time beyond the model's and the tools': Took − Model − Tools.
type Step struct {
	N            int         `json:"n"`
	Text         string      `json:"text"`
	FinishReason string      `json:"finish_reason,omitempty"`
	Calls        []*ToolCall `json:"tool_calls,omitempty"`
	Usage        *Usage      `json:"usage,omitempty"`
	ModelMS      float64     `json:"model_ms"`
	ToolsMS      float64     `json:"tools_ms"`
	TookMS       float64     `json:"took_ms"`
	LoopMS       float64     `json:"loop_ms"`
	Error        string      `json:"error,omitempty"`
	// CallBacks are an agent-strategy plugin's calls back in the step (its
	// model turns and tool calls); a tool's own are under its call.
	CallBacks []CallBack `json:"call_backs,omitempty"`
}

// Usage is a step's tokens and price.
type Usage struct {
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	TotalTokens      int    `json:"total_tokens"`
	TotalPrice       string `json:"total_price,omitempty"`
	Currency         string `json:"currency,omitempty"`
}

func usageOf(u *protocol.LLMUsage) *Usage {
	if u == nil {
		return nil
	}
	return &Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens,
		TotalPrice: string(u.TotalPrice), Currency: u.Currency}
}

// Tool call statuses.
const (
	CallRunning = "running"
	CallDone    = "done"
	CallError   = "error"
	CallSkipped = "skipped"
)

// ToolCall is one call the model asked for and what became of it.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments are as the model sent them (JSON text).
	Arguments string `json:"arguments"`
	// PluginID, Provider and Tool name the tool called (empty for an
	// unknown one); RunID is its tool run (app/invoke's), whose files the
	// answer links to.
	PluginID    string `json:"plugin_id,omitempty"`
	Provider    string `json:"provider,omitempty"`
	Tool        string `json:"tool,omitempty"`
	RunID       string `json:"run_id,omitempty"`
	Status      string `json:"status"`
	Observation string `json:"observation,omitempty"`
	Error       string `json:"error,omitempty"`
	Files       []File `json:"files,omitempty"`
	// CallBacks are the calls back the tool made while it ran, in order.
	CallBacks []CallBack `json:"call_backs,omitempty"`
	TookMS    float64    `json:"took_ms"`
}

// CallBack is one call back a tool made into the platform (a model, a
// tool, storage …): its type, how it ended and how long it took; never
// what it asked or got.
type CallBack struct {
	Type    string  `json:"type"`
	Outcome string  `json:"outcome"`
	Error   string  `json:"error,omitempty"`
	TookMS  float64 `json:"took_ms"`
}

// File is a file a tool made, kept with its tool run.
type File struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	// URL is the app's address of it (the tool playground's run file).
	URL string `json:"url"`
}
