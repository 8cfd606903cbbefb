"""callbacks: an example Plugboard tool plugin whose tools call back into
the platform, using only the standard library.

It speaks the runtime protocol directly, with the frames Dify's Python SDK
(dify_plugin) writes and reads for a backwards invocation:

* a call back is a session message of type "invoke" whose data is
  {"type": <invoke type>, "backwards_request_id": <uuid4 hex>,
  "request": {...}}, the request shaped as the SDK's model_dump() of it;
* the answers come in on stdin as "backwards_response" events of the same
  session, matched by backwards_request_id: "response" frames (their data
  is a chunk), an "error" frame (its message is raised), and always an
  "end";
* upload_file answers with a URL, to which the file is POSTed as the
  multipart field "file"; the platform answers 201 with the file's
  {id, name, size, extension, mime_type, type, preview_url}.

Each tool makes one kind of call (storage, summary, LLM, tool, upload);
"tour" makes them all in turn. A call the plugin's manifest does not permit
is refused by the daemon with Dify's permission-denied error, which the
tool reports as its error.
"""

import json
import queue
import sys
import threading
import time
import urllib.request
import uuid

PROVIDER = "callbacks"
HEARTBEAT_INTERVAL = 10.0
# The SDK's MAX_INVOCATION_TIMEOUT: how long to wait for a frame.
CALL_TIMEOUT = 250.0

_out_lock = threading.Lock()
_waiting = {}  # backwards_request_id -> queue.Queue of frames
_waiting_lock = threading.Lock()


class CallBackError(Exception):
    """The platform refused or failed a call back (the SDK raises the same)."""


# Output ------------------------------------------------------------------

def write(event):
    """Write one event line; like Dify's SDK, end it with an empty line."""
    data = (json.dumps(event, separators=(",", ":")) + "\n\n").encode("utf-8")
    with _out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def session(session_id, kind, data):
    write({"event": "session", "session_id": session_id, "data": {"type": kind, "data": data}})


def text(session_id, value):
    session(session_id, "stream", {"type": "text", "message": {"text": value}, "meta": None})


def link(session_id, url):
    session(session_id, "stream", {"type": "link", "message": {"text": url}, "meta": None})


def json_message(session_id, obj):
    session(session_id, "stream", {"type": "json", "message": {"json_object": obj}, "meta": None})


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(HEARTBEAT_INTERVAL)


def log(message, level="INFO"):
    write({"event": "log", "session_id": None,
           "data": {"level": level, "message": message, "timestamp": time.time()}})


# Calls back ----------------------------------------------------------------

def call_back(session_id, invoke_type, request):
    """Make one call back and yield each response frame's data until the end.
    An error frame raises CallBackError with the platform's message."""
    request_id = uuid.uuid4().hex
    frames = queue.Queue()
    with _waiting_lock:
        _waiting[request_id] = frames
    try:
        session(session_id, "invoke", {"type": invoke_type, "backwards_request_id": request_id, "request": request})
        while True:
            try:
                frame = frames.get(timeout=CALL_TIMEOUT)
            except queue.Empty:
                raise CallBackError("no answer to the %s call back in %d seconds" % (invoke_type, CALL_TIMEOUT))
            event = frame.get("event")
            if event == "error":
                raise CallBackError(frame.get("message") or "the %s call back failed" % invoke_type)
            if event == "end" or frame.get("data") is None:
                return
            yield frame["data"]
    finally:
        with _waiting_lock:
            _waiting.pop(request_id, None)


def call_once(session_id, invoke_type, request):
    """A call back answered with one object (message "struct")."""
    result = None
    for data in call_back(session_id, invoke_type, request):
        result = data
    return result


def storage(session_id, opt, key, value=None):
    request = {"opt": opt, "key": key}
    if value is not None:
        request["value"] = value.hex()
    return call_once(session_id, "storage", request)


def summary(session_id, content, instruction=""):
    # The SDK returns a text under min_summarize_length (1024) without asking.
    return call_once(session_id, "system_summary", {"text": content, "instruction": instruction})["summary"]


def llm(session_id, provider, model, question):
    """Yield the text of each chunk of the LLM's answer."""
    request = {"provider": provider, "model": model, "model_type": "llm", "mode": "chat",
               "completion_params": {"delay_ms": 0},
               "prompt_messages": [{"role": "user", "content": question, "name": None}],
               "tools": [], "stop": [], "stream": True}
    for chunk in call_back(session_id, "llm", request):
        content = chunk.get("delta", {}).get("message", {}).get("content")
        if isinstance(content, list):
            content = "".join(p.get("data", "") for p in content if p.get("type") == "text")
        if content:
            yield content


def tool(session_id, provider, name, parameters):
    """Yield each message of another tool's output."""
    request = {"tool_type": "builtin", "provider": provider, "tool": name, "tool_parameters": parameters}
    for message in call_back(session_id, "tool", request):
        yield message


def upload(session_id, filename, content, mimetype):
    """Upload a file as the SDK's session.file.upload does; return the
    platform's file object."""
    url = call_once(session_id, "upload_file", {"filename": filename, "mimetype": mimetype})["url"]
    boundary = uuid.uuid4().hex
    body = b"".join([
        b"--" + boundary.encode() + b"\r\n",
        b'Content-Disposition: form-data; name="file"; filename="' + filename.replace('"', "").encode() + b'"\r\n',
        b"Content-Type: " + mimetype.encode() + b"\r\n\r\n",
        content, b"\r\n--" + boundary.encode() + b"--\r\n",
    ])
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    with urllib.request.urlopen(req, timeout=60) as resp:
        if resp.status != 201:
            raise CallBackError("upload failed with status %d" % resp.status)
        return json.loads(resp.read())


# Tools -------------------------------------------------------------------

def count(session_id, params):
    key = str(params.get("key") or "visits")
    seen = storage(session_id, "exist", key)["data"]
    n = int(bytes.fromhex(storage(session_id, "get", key)["data"]).decode()) if seen else 0
    storage(session_id, "set", key, str(n + 1).encode())
    text(session_id, "storage: %s = %d" % (key, n + 1))


def summarize(session_id, params):
    text(session_id, "summary: " + summary(session_id, str(params.get("text") or ""), str(params.get("instruction") or "")))


def ask(session_id, params):
    text(session_id, "llm: ")
    for piece in llm(session_id, params.get("provider") or "plugboard/demo_model/demo_model",
                     params.get("model") or "demo-chat", str(params.get("question") or "")):
        text(session_id, piece)


def call_tool(session_id, params):
    text(session_id, "tool: ")
    for message in tool(session_id, params.get("provider") or "plugboard/gotools/gotools",
                        params.get("tool") or "stream_text", {"text": str(params.get("text") or ""), "delay_ms": 0}):
        inner = message.get("message") or {}
        if message.get("type") == "text":
            text(session_id, inner.get("text", ""))
        elif message.get("type") == "json":
            json_message(session_id, inner.get("json_object"))


def save_file(session_id, params):
    f = upload(session_id, str(params.get("filename") or "note.txt"), str(params.get("text") or "").encode(), "text/plain")
    text(session_id, "file: %s (%d bytes)" % (f["name"], f["size"]))
    link(session_id, f["preview_url"])


def nest(session_id, params):
    levels = int(float(params.get("levels") or 0))
    if levels <= 0:
        text(session_id, "bottom")
        return
    text(session_id, "level %d > " % levels)
    for message in tool(session_id, "plugboard/callbacks/callbacks", "nest", {"levels": levels - 1}):
        if message.get("type") == "text":
            text(session_id, (message.get("message") or {}).get("text", ""))


def tour(session_id, params):
    content = str(params.get("text") or "")
    steps = [
        (count, {"key": "tour"}),
        # Long enough to be summarised (the SDK's minimum is 1024 characters).
        (summarize, {"text": "\n".join([content] * max(1, 1100 // max(1, len(content)) + 1))}),
        (ask, {"question": content}),
        (call_tool, {"text": content}),
        (save_file, {"text": content, "filename": "tour.txt"}),
    ]
    for step, step_params in steps:
        step(session_id, step_params)
        text(session_id, "\n")


TOOLS = {"tour": tour, "count": count, "summarize": summarize, "ask": ask, "call_tool": call_tool, "save_file": save_file, "nest": nest}


# Requests ------------------------------------------------------------------

def invoke_tool(session_id, data):
    if data.get("provider") != PROVIDER:
        raise ValueError("Provider `%s` not found" % data.get("provider"))
    run = TOOLS.get(data.get("tool"))
    if run is None:
        raise ValueError("Tool `%s` not found for provider `%s`" % (data.get("tool"), PROVIDER))
    run(session_id, data.get("tool_parameters") or {})


def validate_credentials(session_id, data):
    session(session_id, "stream", {"result": True})


ROUTES = {("tool", "invoke_tool"): invoke_tool, ("tool", "validate_tool_credentials"): validate_credentials}


def handle(session_id, data):
    """Run one request; like the SDK: error (if any), then always end."""
    try:
        route = ROUTES.get((data.get("type"), data.get("action")))
        if route is not None:
            route(session_id, data)
    except Exception as e:  # the SDK's IOServer: any exception, args {}
        session(session_id, "error", {"error_type": type(e).__name__, "message": str(e), "args": {}})
    session(session_id, "end", {})


def on_line(line):
    line = line.strip()
    if not line:
        return
    try:
        msg = json.loads(line)
    except ValueError as e:
        write({"event": "error", "session_id": None, "data": {"error": "Invalid JSON: %s" % e}})
        return
    if not isinstance(msg, dict):
        return
    event = msg.get("event")
    if event == "backwards_response":
        frame = msg.get("data") or {}
        with _waiting_lock:
            frames = _waiting.get(frame.get("backwards_request_id"))
        if frames is not None:
            frames.put(frame)
        return
    if event == "request" and isinstance(msg.get("data"), dict):
        threading.Thread(target=handle, args=(msg.get("session_id"), msg["data"]), daemon=True).start()


def main():
    write({"INSTALL_METHOD": "local", "HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL, "PLUGIN": PROVIDER})
    threading.Thread(target=heartbeats, daemon=True).start()
    for name in TOOLS:
        log("Installed tool: %s" % name)
    for line in sys.stdin.buffer:
        on_line(line)
    sys.exit(0)


if __name__ == "__main__":
    main()
