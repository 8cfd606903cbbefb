package apispec

import (
	"context"
	"encoding/json"
	"fmt"
)

// DirectDispatcher is the daemon's tool dispatch for a client in the
// daemon's own process (the embedded daemon's app): the route's checks,
// the plugin's session and its frames as over HTTP, without the request
// line, the JSON body, the SSE text and the goroutines carrying them.
type DirectDispatcher interface {
	// InvokeTool is POST /plugin/{tenant}/dispatch/tool/invoke; a refusal
	// is a *DirectError.
	InvokeTool(ctx context.Context, call DirectCall, req InvokeRequest[InvokeToolData]) (Frames, error)
}

// DirectCall is what a dispatch over HTTP carries in its path and headers.
type DirectCall struct {
	Tenant   string
	PluginID string // X-Plugin-ID
	// CallDepth is X-Plugboard-Call-Depth's value ("": none).
	CallDepth string
	// CallBackEvents asks for an EventCallBack frame after each of the
	// plugin's calls back (HeaderEvents: EventsCallBack).
	CallBackEvents bool
}

// Frames are a dispatch's SSE frames, read one at a time.
type Frames interface {
	// Next returns the next frame: its event name ("" for the plugin's
	// chunks) and its envelope's data; io.EOF after the last; a
	// *DirectError for the error frame that ends a stream.
	Next() (event string, data json.RawMessage, err error)
	// Close ends the dispatch, cancelling the plugin's session if it still
	// runs, as a client closing its connection does.
	Close()
}

// DirectError is an error answer as it would go over HTTP: its status (200
// for a stream's error frame) and envelope.
type DirectError struct {
	Status   int
	Envelope Envelope
}

func (e *DirectError) Error() string {
	return fmt.Sprintf("daemon answered %d: %s", e.Status, e.Envelope.Message)
}
