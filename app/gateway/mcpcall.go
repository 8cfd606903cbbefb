package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	sjson "github.com/segmentio/encoding/json"
)

// The gateway answers the commonest MCP request itself — a plain
// tools/call on a session the SDK opened — and hands the SDK everything
// else (initialize, lists, pings, notifications, a call asking for progress
// or carrying any _meta, batches, GET streams, DELETE, any header it would
// check). The SDK's server spends ~200 µs of CPU on each call (a 32 KB
// buffer per JSON decode in segmentio/encoding, several goroutine hand-
// offs), more than the invocation itself; the answer here is the one it
// would give, as application/json (which a client accepting both must
// take), through the same tool handler (callTool), with the SDK's refusal
// of a request id already in flight. A client's notifications/cancelled,
// the session's DELETE and the key's revocation reach such a call as they
// reach the SDK's; unlike the SDK's, it also ends when the client drops its
// POST (nobody is left to read its answer).

// serveMCP answers one /mcp request of an authenticated key.
func (m *mcpServers) serveMCP(w http.ResponseWriter, r *http.Request, sdk http.Handler) {
	if r.Method != http.MethodPost {
		sdk.ServeHTTP(w, r)
		if c, ok := callOf(r.Context()); ok && r.Method == http.MethodDelete {
			// The session ended (if it was the key's): so do its calls
			// served here, as the SDK's own end with it.
			sid := r.Header.Get("Mcp-Session-Id")
			m.forget(c.Key.ID, sid)
			m.calls.cancelSession(c.Key.ID, sid)
		}
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeRPCError(w, http.StatusRequestEntityTooLarge, nil, jsonrpc.CodeInvalidRequest, "The request could not be read: "+err.Error())
		return
	}
	msg := parseCall(body)
	if msg == nil || msg.Method == "" {
		if text, code := checkJSONRPC(body); text != "" {
			writeRPCError(w, http.StatusBadRequest, nil, code, text)
			return
		}
	}
	if msg != nil {
		if msg.Method == "tools/call" && m.serveCall(w, r, msg) {
			return
		}
		if msg.Method == "notifications/cancelled" {
			m.cancelCall(r, msg) // and the SDK's own, if it is one of its
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sdk.ServeHTTP(w, r)
}

// rpcMessage is a JSON-RPC message in the only shapes served here.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"` // nil: a notification
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"` // nil or an object
}

// callParams are a plain tools/call's params: a name and arguments, no
// _meta (a progress token) or anything else.
type callParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// exactJSON parses as the SDK does (segmentio/encoding with member names
// matched exactly, which encoding/json cannot do), refusing other members,
// without copying out of the body it reads.
const exactJSON = sjson.DisallowUnknownFields | sjson.DontMatchCaseInsensitiveStructFields | sjson.ZeroCopy

// parseExact decodes body into v as exactJSON says: false for anything
// else than one such value, alone in body.
func parseExact(body []byte, v any) bool {
	rest, err := sjson.Parse(body, v, exactJSON)
	return err == nil && len(rest) == 0
}

// parseCall reads a single JSON-RPC message that has only the members
// jsonrpc "2.0", id (a number or a string), method and params (an object);
// any other shape, or another member, is nil.
func parseCall(body []byte) *rpcMessage {
	msg := &rpcMessage{}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' || !parseExact(body, msg) {
		return nil
	}
	if msg.JSONRPC != "2.0" || msg.ID != nil && !isRequestID(msg.ID) || msg.Params != nil && msg.Params[0] != '{' {
		return nil
	}
	return msg
}

// isRequestID reports whether v is a JSON-RPC id as the SDK takes one: a
// string or an integer.
func isRequestID(v json.RawMessage) bool {
	if len(v) > 1 && v[0] == '"' {
		var s string
		return json.Unmarshal(v, &s) == nil
	}
	digits := bytes.TrimPrefix(v, []byte("-"))
	if len(digits) == 0 || len(digits) > 18 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// serveCall answers msg, a tools/call, if it is a plain one on an open,
// initialized session of the key's at the session's protocol version,
// with headers the SDK would take; it reports whether it did.
func (m *mcpServers) serveCall(w http.ResponseWriter, r *http.Request, msg *rpcMessage) bool {
	c, ok := callOf(r.Context())
	if !ok || msg.ID == nil || !plainCallHeaders(r.Header) {
		return false
	}
	var p callParams
	if msg.Params != nil && !parseExact(msg.Params, &p) || p.Arguments != nil && p.Arguments[0] != '{' {
		return false // _meta (progress), or anything else: the SDK's
	}
	name := p.Name
	sid := r.Header.Get("Mcp-Session-Id")
	open, listed := m.session(c.Key.ID, sid, r.Header.Get("Mcp-Protocol-Version"), name)
	if !open || name == "" {
		return false
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	done, ok := m.calls.add(c.Key.ID, sid, msg.ID, cancel)
	if !ok {
		writeRPCError(w, http.StatusBadRequest, msg.ID, jsonrpc.CodeInvalidRequest, "duplicate in-flight request ID "+string(msg.ID))
		return true
	}
	defer done()
	if !m.keyServed(c.Key.ID) {
		cancel() // revoked between the lookup and the add: drop cancelled before it was added
	}
	c.Tool = name
	res, err := m.callTool(ctx, c, p.Arguments, listed, nil)
	w.Header()["Cache-Control"] = []string{"no-cache, no-transform"}
	if err != nil {
		// As the SDK words a handler's error: a JSON-RPC error keeps its
		// code, any other has code 0.
		var code int64
		text := err.Error()
		if re, ok := err.(*jsonrpc.Error); ok {
			code, text = re.Code, re.Message
		}
		writeRPCError(w, http.StatusOK, msg.ID, code, text)
		return true
	}
	result, err := json.Marshal(res)
	if err != nil {
		writeRPCError(w, http.StatusOK, msg.ID, jsonrpc.CodeInternalError, "The result could not be encoded: "+err.Error())
		return true
	}
	// {"jsonrpc":"2.0","id":…,"result":…}, as json.Marshal of the response
	// would write it (msg.ID is the request's id as it came: a JSON
	// string or integer).
	out := make([]byte, 0, len(result)+len(msg.ID)+36)
	out = append(append(append(out, `{"jsonrpc":"2.0","id":`...), msg.ID...), `,"result":`...)
	out = append(append(out, result...), '}')
	w.Header()["Content-Type"] = []string{"application/json"}
	w.Write(out)
	return true
}

// plainCallHeaders reports whether a POST's headers are ones the SDK
// takes without a word: JSON, accepting JSON and event streams, a session
// and a version, no Last-Event-ID and none of the other Mcp- headers it
// checks against the body.
func plainCallHeaders(h http.Header) bool {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		return false
	}
	jsonOK, streamOK := false, false
	for _, v := range h.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			base, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(base)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	if !jsonOK || !streamOK {
		return false
	}
	for k := range h {
		if k == "Last-Event-Id" || strings.HasPrefix(k, "Mcp-") && k != "Mcp-Session-Id" && k != "Mcp-Protocol-Version" {
			return false
		}
	}
	return h.Get("Mcp-Session-Id") != "" && h.Get("Mcp-Protocol-Version") != ""
}

// session reports whether sid is one of the key's open sessions,
// initialized at version, and whether the key's server lists the tool name.
func (m *mcpServers) session(keyID int64, sid, version, name string) (open, listed bool) {
	if version >= "2026-07-28" || !slices.Contains(mcp.SupportedProtocolVersions(), version) {
		return false, false // the stateless protocol, or one the SDK refuses: the SDK answers
	}
	m.mu.Lock()
	ks := m.servers[keyID]
	var known string
	if ks != nil {
		_, listed = ks.tools[name]
		known = ks.versions[sid]
	}
	m.mu.Unlock()
	switch {
	case ks == nil:
		return false, false
	case known != "":
		return known == version, listed
	}
	for ss := range ks.srv.Sessions() {
		if ss.ID() == sid {
			// The version asked for at initialize: the one negotiated when
			// the SDK supports it (checked above); a client given another
			// one is answered by the SDK.
			p := ss.InitializeParams()
			if p == nil {
				return false, listed
			}
			m.remember(ks, ss, p.ProtocolVersion)
			return p.ProtocolVersion == version, listed
		}
	}
	return false, false
}

// remember keeps an initialized session's version for its next calls,
// until the session ends.
func (m *mcpServers) remember(ks *keyServer, ss *mcp.ServerSession, version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := ks.versions[ss.ID()]; ok {
		return
	}
	if ks.versions == nil {
		ks.versions = map[string]string{}
	}
	ks.versions[ss.ID()] = version
	go func() {
		ss.Wait()
		m.mu.Lock()
		delete(ks.versions, ss.ID())
		m.mu.Unlock()
	}()
}

// forget drops what remember kept of a session (it was deleted: the next
// request on it is the SDK's to refuse).
func (m *mcpServers) forget(keyID int64, sid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ks := m.servers[keyID]; ks != nil {
		delete(ks.versions, sid)
	}
}

// keyServed reports whether the key still has its MCP server (it is not
// revoked).
func (m *mcpServers) keyServed(keyID int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.servers[keyID] != nil
}

// cancelCall cancels the call a notifications/cancelled names, if it is
// one served here.
func (m *mcpServers) cancelCall(r *http.Request, msg *rpcMessage) {
	c, ok := callOf(r.Context())
	if !ok || msg.ID != nil {
		return
	}
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if _, err := sjson.Parse(msg.Params, &p, sjson.DontMatchCaseInsensitiveStructFields); err == nil {
		m.calls.cancel(c.Key.ID, r.Header.Get("Mcp-Session-Id"), p.RequestID)
	}
}

// liveCalls are the tools/calls served here that are going on, by
// session and request id, so that a cancellation, the session's end or
// the key's revocation reaches them.
type liveCalls struct {
	mu    sync.Mutex
	calls map[liveCall]context.CancelFunc
}

type liveCall struct {
	keyID   int64
	session string
	id      string
}

// add registers a call; false when a call with its id is already going on
// in its session (the SDK refuses such a request too), so that each entry
// is its own call's until that call's done.
func (l *liveCalls) add(keyID int64, session string, id json.RawMessage, cancel context.CancelFunc) (done func(), ok bool) {
	k := liveCall{keyID, session, string(id)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, taken := l.calls[k]; taken {
		return nil, false
	}
	if l.calls == nil {
		l.calls = map[liveCall]context.CancelFunc{}
	}
	l.calls[k] = cancel
	return func() {
		l.mu.Lock()
		delete(l.calls, k)
		l.mu.Unlock()
	}, true
}

// cancel cancels the call with the request id in the session.
func (l *liveCalls) cancel(keyID int64, session string, id json.RawMessage) {
	l.cancelWhere(func(k liveCall) bool {
		return k.keyID == keyID && k.session == session && k.id == string(bytes.TrimSpace(id))
	})
}

// cancelSession cancels the session's calls (it was deleted).
func (l *liveCalls) cancelSession(keyID int64, session string) {
	l.cancelWhere(func(k liveCall) bool { return k.keyID == keyID && k.session == session })
}

// cancelKey cancels every call of the key served here (its revocation).
func (l *liveCalls) cancelKey(keyID int64) {
	l.cancelWhere(func(k liveCall) bool { return k.keyID == keyID })
}

func (l *liveCalls) cancelWhere(match func(liveCall) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, cancel := range l.calls {
		if match(k) {
			cancel()
		}
	}
}

// checkJSONRPC says what is wrong with a body that is not one JSON-RPC
// message or a batch of them, with its error code ("" when it is): the
// SDK would answer such a body in plain text, and the session goes on.
func checkJSONRPC(body []byte) (string, int64) {
	if !json.Valid(body) {
		return "Parse error: the body is not JSON.", jsonrpc.CodeParseError
	}
	var batch []json.RawMessage
	if json.Unmarshal(body, &batch) != nil {
		batch = []json.RawMessage{body}
	}
	for _, m := range batch {
		if _, err := jsonrpc.DecodeMessage(m); err != nil {
			return "Invalid request: " + err.Error() + ".", jsonrpc.CodeInvalidRequest
		}
	}
	return "", 0
}

// writeRPCError answers a JSON-RPC error to id (nil: to none).
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int64, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	out, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *jsonrpc.Error  `json:"error"`
	}{"2.0", id, &jsonrpc.Error{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(out)
}
