package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/gateway"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/sse"
	"github.com/plugboard/plugboard/store"
)

// listTools answers the key's tools as OpenAI function-calling schemas:
// {"tools": [{"type": "function", "function": {name, description,
// parameters}}]}, ready to pass to a model.
func (h *Handlers) listTools(c echo.Context) error {
	tools, err := h.gw.Tools(c.Request().Context(), currentKey(c))
	if err != nil {
		return apiError(c, err)
	}
	out := make([]map[string]any, 0, len(tools))
	for _, t := range tools {
		out = append(out, gateway.FunctionSchema(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"tools": out})
}

// Message is one tool message as the REST API answers it.
type Message struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	JSON     any    `json:"json,omitempty"`
	Link     string `json:"link,omitempty"`
	MIME     string `json:"mime_type,omitempty"`
	Filename string `json:"filename,omitempty"`
	Data     []byte `json:"data,omitempty"` // a blob, base64
}

func messageOf(m *client.Message) Message {
	return Message{Type: m.Type, Text: m.Text, JSON: m.JSON, Link: m.Link, MIME: m.MIME, Filename: m.Filename, Data: m.Blob}
}

// Outcome is how a call ended.
type Outcome struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"` // done, failed, cancelled
	Error  string `json:"error,omitempty"`
	// Output is what a model reads of the messages (text joined, JSON
	// appended, links and images as sentences).
	Output   string    `json:"output"`
	Messages []Message `json:"messages,omitempty"`
}

// invoke calls a tool with the body's arguments (a JSON object, as a
// model's function call gives them): with Accept: text/event-stream each
// message is a "message" event and the end a "done" event with the
// outcome; otherwise the answer is the outcome with every message.
func (h *Handlers) invoke(c echo.Context) error {
	args, err := readArgs(c.Request().Body)
	if err != nil {
		return apiError(c, err)
	}
	call := gateway.Call{Key: currentKey(c), Tool: c.Param("id"), Args: args, Via: "rest", Address: c.RealIP(), BaseURL: h.baseURL(c)}
	if !strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/event-stream") {
		res, err := h.gw.Call(c.Request().Context(), call, nil)
		if err != nil {
			return apiError(c, err)
		}
		out := outcomeOf(res)
		for _, m := range res.Messages {
			out.Messages = append(out.Messages, messageOf(m))
		}
		return c.JSON(http.StatusOK, out)
	}
	return h.stream(c, call)
}

// stream answers the call as server-sent events. A refusal before the
// tool runs is answered as a JSON error with its status, not as a stream.
func (h *Handlers) stream(c echo.Context, call gateway.Call) error {
	var w *sse.Writer
	res, err := h.gw.Call(c.Request().Context(), call, func(m *client.Message) {
		if w == nil {
			w = sse.Start(c.Response())
		}
		b, _ := json.Marshal(messageOf(m))
		w.Event("", "message", b)
		w.Flush()
	})
	if err != nil && w == nil {
		return apiError(c, err)
	}
	if w == nil {
		w = sse.Start(c.Response())
	}
	var out Outcome
	if err != nil {
		out = Outcome{Status: store.RunFailed, Error: plugboard.ErrorMessage(err)}
	} else {
		out = outcomeOf(res)
	}
	b, _ := json.Marshal(out)
	w.Event("", "done", b)
	return w.Flush()
}

func outcomeOf(res *gateway.Result) Outcome {
	return Outcome{RunID: res.Run.ID, Status: res.Run.Status, Error: res.Run.Error, Output: invoke.ObservationOf(res.Messages)}
}

// readArgs reads the arguments object; an empty body is none.
func readArgs(body io.Reader) (map[string]any, error) {
	var args map[string]any
	err := json.NewDecoder(body).Decode(&args)
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, plugboard.Errorf(plugboard.EINVALID, "The body must be a JSON object of the tool's arguments: %v.", err)
	}
	return args, nil
}
