"""pycalling: a test agent-strategy plugin using only the standard library.

Its function_calling strategy runs the loop of Dify's official
function_calling strategy (cot_agent) with the frames Dify's SDK
(dify_plugin) writes for it:

* each round is a "ROUND n" log (start, then success), under which the
  model's turn is a backwards "llm" call carrying the tools (built from each
  tool entity's form-llm parameters, as PromptMessageTools), and each tool
  call the model asks for a backwards "tool" call (tool_type builtin, the
  entity's provider plugin_id/provider, the arguments over its runtime
  parameters), with no credential_id: as the SDK does then, the id comes
  from the session context's credentials.tool_credentials[provider];
* the answers come in on stdin as "backwards_response" events of the
  session, matched by backwards_request_id ("response" frames, an "error"
  frame, always an "end");
* the round without tool calls sends the model's text as the answer;
  the last message is a json one with execution_metadata (the tokens).
"""

import json
import queue
import sys
import threading
import time
import uuid

CALL_TIMEOUT = 250.0  # the SDK's MAX_INVOCATION_TIMEOUT

_out = threading.Lock()
_waiting = {}  # backwards_request_id -> queue.Queue of frames
_waiting_lock = threading.Lock()


class CallBackError(Exception):
    """The platform refused or failed a call back (the SDK raises the same)."""


def write(event):
    with _out:
        sys.stdout.buffer.write((json.dumps(event, separators=(",", ":")) + "\n\n").encode("utf-8"))
        sys.stdout.buffer.flush()


def session(sid, kind, data):
    write({"event": "session", "session_id": sid, "data": {"type": kind, "data": data}})


def message(sid, kind, msg):
    session(sid, "stream", {"type": kind, "message": msg, "meta": None})


def round_log(sid, n, status, data=None, metadata=None):
    message(sid, "log", {"id": "round-%d" % n, "label": "ROUND %d" % n, "parent_id": None, "error": None,
                         "status": status, "data": data or {}, "metadata": metadata or {}})


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(10)


def call_back(sid, invoke_type, request):
    """Make one call back; yield each response frame's data until the end."""
    rid = uuid.uuid4().hex
    frames = queue.Queue()
    with _waiting_lock:
        _waiting[rid] = frames
    try:
        session(sid, "invoke", {"type": invoke_type, "backwards_request_id": rid, "request": request})
        while True:
            try:
                frame = frames.get(timeout=CALL_TIMEOUT)
            except queue.Empty:
                raise CallBackError("no answer to the %s call back in %d seconds" % (invoke_type, CALL_TIMEOUT))
            if frame.get("event") == "error":
                raise CallBackError(frame.get("message") or "the %s call back failed" % invoke_type)
            if frame.get("event") == "end" or frame.get("data") is None:
                return
            yield frame["data"]
    finally:
        with _waiting_lock:
            _waiting.pop(rid, None)


def prompt_tool(tool):
    """A tool entity as the PromptMessageTool the model is offered."""
    props, required = {}, []
    for p in tool.get("parameters") or []:
        if p.get("form") != "llm":
            continue
        kind = {"number": "number", "boolean": "boolean"}.get(p.get("type"), "string")
        desc = p.get("llm_description") or ""
        props[p["name"]] = {"type": kind, "description": desc}
        if p.get("required"):
            required.append(p["name"])
    identity = tool.get("identity") or {}
    return {"name": identity.get("name"), "description": identity.get("name"),
            "parameters": {"type": "object", "properties": props, "required": required}}


def text_of(content):
    if isinstance(content, list):
        return "".join(p.get("data", "") for p in content if p.get("type") == "text")
    return content or ""


def llm_turn(sid, model, messages, tools, stream_text):
    """One model turn (a backwards llm call): its text, tool calls, tokens."""
    request = {"provider": model.get("provider"), "model": model.get("model"), "model_type": "llm",
               "mode": model.get("mode") or "chat", "completion_params": model.get("completion_params") or {},
               "prompt_messages": messages, "tools": tools, "stop": [], "stream": True}
    text, calls, tokens = "", [], 0
    for chunk in call_back(sid, "llm", request):
        delta = chunk.get("delta") or {}
        msg = delta.get("message") or {}
        piece = text_of(msg.get("content"))
        if piece:
            text += piece
            if stream_text:
                message(sid, "text", {"text": piece})
        calls.extend(msg.get("tool_calls") or [])
        usage = delta.get("usage") or {}
        tokens = usage.get("total_tokens", tokens)
    return text, calls, tokens


def run_tool(sid, entity, args, context):
    """One tool call (a backwards tool call); its output as text."""
    identity = entity.get("identity") or {}
    provider = identity.get("provider")
    request = {"tool_type": entity.get("provider_type") or "builtin", "provider": provider,
               "tool": identity.get("name"), "tool_parameters": dict(entity.get("runtime_parameters") or {}, **args)}
    cred = ((context.get("credentials") or {}).get("tool_credentials") or {}).get(provider)
    if cred:
        request["credential_id"] = cred
    out = []
    for chunk in call_back(sid, "tool", request):
        msg = chunk.get("message") or {}
        if chunk.get("type") == "json":
            out.append(json.dumps(msg.get("json_object")))
        elif "text" in msg:
            out.append(msg["text"])
    return "".join(out)


def function_calling(sid, params, context):
    model = params.get("model") or {}
    entities = {((t.get("identity") or {}).get("name")): t for t in params.get("tools") or []}
    tools = [prompt_tool(t) for t in entities.values()]
    messages = []
    if params.get("instruction"):
        messages.append({"role": "system", "content": params["instruction"], "name": None})
    messages.extend(model.get("history_prompt_messages") or [])
    messages.append({"role": "user", "content": params.get("query") or "", "name": None})
    limit = int(params.get("maximum_iterations") or 3)
    total = 0
    for n in range(1, limit + 1):
        round_log(sid, n, "start")
        last = n == limit
        text, calls, tokens = llm_turn(sid, model, messages, [] if last else tools, False)
        total += tokens
        if not calls:
            message(sid, "text", {"text": text})  # the answer
            round_log(sid, n, "success", {"output": text}, {"total_tokens": tokens})
            break
        messages.append({"role": "assistant", "content": text, "name": None, "tool_calls": calls})
        for c in calls:
            fn = c.get("function") or {}
            entity = entities.get(fn.get("name"))
            try:
                args = json.loads(fn.get("arguments") or "{}")
                result = run_tool(sid, entity, args, context) if entity else "there is not a tool named %s" % fn.get("name")
            except (CallBackError, ValueError) as e:
                result = "tool invoke error: %s" % e
            messages.append({"role": "tool", "content": result, "name": fn.get("name"), "tool_call_id": c.get("id")})
        round_log(sid, n, "success", {"output": text}, {"total_tokens": tokens})
    message(sid, "json", {"json_object": {"execution_metadata": {"total_tokens": total}}})


def handle(sid, msg):
    data = msg.get("data") or {}
    try:
        if data.get("type") == "agent_strategy" and data.get("action") == "invoke_agent_strategy":
            function_calling(sid, data.get("agent_strategy_params") or {}, msg.get("context") or {})
        session(sid, "end", {})
    except CallBackError as e:
        session(sid, "error", {"error_type": "CallBackError", "message": str(e), "args": {"description": str(e)}})


def main():
    threading.Thread(target=heartbeats, daemon=True).start()
    for line in sys.stdin.buffer:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if not isinstance(msg, dict):
            continue
        if msg.get("event") == "backwards_response":
            frame = msg.get("data") or {}
            with _waiting_lock:
                q = _waiting.get(frame.get("backwards_request_id"))
            if q is not None:
                q.put(frame)
        elif msg.get("event") == "request":
            threading.Thread(target=handle, args=(msg.get("session_id"), msg), daemon=True).start()


if __name__ == "__main__":
    main()
