package sdktest

import (
	"encoding/json"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// CallBackFunc answers one of the plugin's calls back in a test, as the
// daemon would: the data of each response frame, or an error message.
type CallBackFunc func(typ string, request map[string]any) (data []any, errMessage string)

// AnswerCallBacks makes the conn answer the plugin's calls back with fn:
// a response frame per data item (message "stream" for the types Dify
// streams, else "struct"), or the error, then end — the frames the daemon
// writes. Without it, every call back is answered with an error.
func (c *Conn) AnswerCallBacks(fn CallBackFunc) { c.calls.Store(&fn) }

// ToolRequest sends an invoke_tool request as Dify's daemon writes it.
func (c *Conn) ToolRequest(tb testing.TB, session, provider, tool string, params map[string]any) {
	tb.Helper()
	if params == nil {
		params = map[string]any{}
	}
	line, err := json.Marshal(map[string]any{"session_id": session, "event": protocol.EventRequest, "context": map[string]any{},
		"data": map[string]any{"user_id": "test-user", "type": protocol.TypeTool, "action": protocol.ActionInvokeTool,
			"provider": provider, "tool": tool, "tool_parameters": params, "credentials": map[string]any{}, "credential_type": "api-key"}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.write(line); err != nil {
		tb.Fatalf("write to the plugin: %v", err)
	}
}

// streamed are the call back types answered frame by frame.
var streamed = map[string]bool{"llm": true, "llm_structured_output": true, "tts": true, "tool": true, "app": true}

// answer answers one invoke session message.
func (c *Conn) answer(session string, data json.RawMessage) {
	var inv protocol.InvokeData
	if json.Unmarshal(data, &inv) != nil {
		return
	}
	reply := func(event, message string, data any) {
		line, _ := json.Marshal(protocol.BackwardsLine{SessionID: session, Event: protocol.EventBackwardsResponse,
			Data: protocol.BackwardsFrame{RequestID: inv.RequestID, Event: event, Message: message, Data: data}})
		c.write(line)
	}
	fn := c.calls.Load()
	if fn == nil {
		reply(protocol.BackwardsError, "sdktest: no answer for calls back (Conn.AnswerCallBacks)", nil)
	} else if items, msg := (*fn)(inv.Type, inv.Request); msg != "" {
		reply(protocol.BackwardsError, msg, nil)
	} else {
		kind := protocol.BackwardsStruct
		if streamed[inv.Type] {
			kind = protocol.BackwardsStream
		}
		for _, d := range items {
			reply(protocol.BackwardsResponse, kind, d)
		}
	}
	reply(protocol.BackwardsEnd, "", nil)
}

// write sends one line to the plugin.
func (c *Conn) write(line []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.in.Write(append(line, '\n'))
	return err
}
