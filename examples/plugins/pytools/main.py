"""pytools: an example Plugboard tool plugin using only the standard library.

It speaks the runtime protocol directly and behaves on the wire as a plugin
built on Dify's Python SDK (dify_plugin) does, so the daemon's side of the
protocol is tested against the SDK's rules without the SDK installed:

* requests are read the way the SDK's stdio reader reads them (session_id,
  event and data are required; a line it cannot read gets an instance-level
  error event) and routed on (type, action); a request no route matches is
  answered with only an end, as the SDK does;
* each request's data is validated like the SDK's pydantic request models
  (ToolInvokeRequest and friends): a missing field, a wrong type or a
  credential_type other than api-key, oauth2 or unauthorized is refused with
  pydantic's message;
* every session ends with end, after an error too (error, then end); an
  error's data is {"error_type", "message", "args": {}}, as the SDK's
  IOServer sends it for any exception (no traceback);
* a route whose answer is empty streams nothing, as the SDK's dispatch skips
  a falsy result: the session is only an end;
* an empty input line is unreadable JSON to the SDK's stdio reader, so it
  gets an instance-level error too (the daemon must never send one).

One extension of Plugboard's: {"event": "cancel", "session_id": S} stops the
session's echo loop (the SDK does not know this event).
"""

import json
import sys
import threading
import time

PROVIDER = "pytools"
HEARTBEAT_INTERVAL = 10.0

_out_lock = threading.Lock()
_cancels = {}  # session id -> threading.Event, for the sessions running now
_cancels_lock = threading.Lock()


class Cancelled(Exception):
    """The daemon cancelled the session."""


class ToolProviderCredentialValidationError(Exception):
    """What an SDK provider's _validate_credentials raises for bad credentials."""


# Output ------------------------------------------------------------------

def write(event):
    """Write one event line; like Dify's SDK, end it with an empty line."""
    data = (json.dumps(event, separators=(",", ":")) + "\n\n").encode("utf-8")
    with _out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def session(session_id, kind, data):
    write({"event": "session", "session_id": session_id, "data": {"type": kind, "data": data}})


def stream(session_id, message):
    session(session_id, "stream", message)


def tool_message(kind, message):
    return {"type": kind, "message": message, "meta": None}


def instance_error(message):
    """An error that belongs to no session, as the SDK reports unreadable input."""
    write({"event": "error", "session_id": None, "data": {"error": message}})


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(HEARTBEAT_INTERVAL)


def log(message, level="INFO"):
    write({"event": "log", "session_id": None,
           "data": {"level": level, "message": message, "timestamp": time.time()}})


# Request validation, as the SDK's pydantic models do it -------------------

CREDENTIAL_TYPES = ("api-key", "oauth2", "unauthorized")


class ValidationError(ValueError):
    """A request that does not fit its model; str() reads like pydantic's."""

    def __init__(self, model, errors):
        self.errors = errors
        lines = ["%d validation error%s for %s" % (len(errors), "" if len(errors) == 1 else "s", model)]
        for field, message in errors:
            lines += [field, "  " + message]
        super().__init__("\n".join(lines))


def _input(value):
    text = repr(value)
    if len(text) > 50:
        text = text[:24] + "..." + text[-23:]
    return "input_value=%s, input_type=%s" % (text, type(value).__name__)


def _string(value):
    if isinstance(value, str):
        return None
    return "Input should be a valid string [type=string_type, %s]" % _input(value)


def _dict(value):
    if isinstance(value, dict):
        return None
    return "Input should be a valid dictionary [type=dict_type, %s]" % _input(value)


def _credential_type(value):
    if value in CREDENTIAL_TYPES:
        return None
    return "Input should be 'api-key', 'oauth2' or 'unauthorized' [type=enum, %s]" % _input(value)


_REQUIRED = object()

# The fields of the SDK's request models (dify_plugin.core.entities.plugin.request):
# name, check, default (_REQUIRED when there is none). Other keys are ignored.
MODELS = {
    "ToolInvokeRequest": [
        ("user_id", _string, _REQUIRED), ("provider", _string, _REQUIRED), ("tool", _string, _REQUIRED),
        ("credentials", _dict, _REQUIRED), ("credential_type", _credential_type, "api-key"),
        ("tool_parameters", _dict, _REQUIRED),
    ],
    "ToolValidateCredentialsRequest": [
        ("user_id", _string, _REQUIRED), ("provider", _string, _REQUIRED), ("credentials", _dict, _REQUIRED),
    ],
    "ToolGetRuntimeParametersRequest": [
        ("user_id", _string, _REQUIRED), ("provider", _string, _REQUIRED), ("tool", _string, _REQUIRED),
        ("credentials", _dict, _REQUIRED),
    ],
}


def validate(model, data):
    """Return data's fields for model, defaults filled in, or raise ValidationError."""
    out, errors = {}, []
    for name, check, default in MODELS[model]:
        if name not in data:
            if default is _REQUIRED:
                errors.append((name, "Field required [type=missing, %s]" % _input(data)))
            else:
                out[name] = default
            continue
        problem = check(data[name])
        if problem:
            errors.append((name, problem))
        out[name] = data[name]
    if errors:
        raise ValidationError(model, errors)
    return out


# Tools -------------------------------------------------------------------

def echo(session_id, request, cancel):
    """Stream the text back word by word, optionally upper-cased and paced."""
    params = request["tool_parameters"]
    text = str(params.get("text") or "")
    if params.get("upper") in (True, "true", "True", 1, "1"):
        text = text.upper()
    delay = float(params.get("delay_ms") or 0) / 1000.0
    for i, word in enumerate(text.split()):
        if i > 0 and cancel.wait(delay):
            raise Cancelled("session cancelled by the daemon")
        if cancel.is_set():
            raise Cancelled("session cancelled by the daemon")
        stream(session_id, tool_message("text", {"text": word if i == 0 else " " + word}))


def word_count(session_id, request, cancel):
    """Return counts of the text's words, characters and lines as JSON."""
    text = str(request["tool_parameters"].get("text") or "")
    stream(session_id, tool_message("json", {"json_object": {
        "words": len(text.split()),
        "characters": len(text),
        "lines": len(text.splitlines()),
    }}))


def request_info(session_id, request, cancel):
    """Report what the tool runtime was given: user, credential type, credential names (never values)."""
    stream(session_id, tool_message("json", {"json_object": {
        "user_id": request["user_id"],
        "credential_type": request["credential_type"],
        "credentials": sorted(request["credentials"]),
        "tool_parameters": sorted(request["tool_parameters"]),
    }}))


TOOLS = {"echo": echo, "word_count": word_count, "request_info": request_info}

# get_tool_runtime_parameters, per tool, the three ways SDK plugins answer it:
# echo implements it (it adds no parameters); request_info does not, which the
# SDK reports as an error; word_count is answered as by SDK 0.10, which has no
# route for the action and sends only end (None here).
NOT_IMPLEMENTED = object()
RUNTIME_PARAMETERS = {"echo": lambda: [], "request_info": NOT_IMPLEMENTED, "word_count": None}


# Routes ------------------------------------------------------------------

def check_tool(request):
    if request["provider"] != PROVIDER:
        raise ValueError("Provider `%s` not found" % request["provider"])
    if request["tool"] not in TOOLS:
        raise ValueError("Tool `%s` not found for provider `%s`" % (request["tool"], request["provider"]))


def invoke_tool(session_id, data, cancel):
    request = validate("ToolInvokeRequest", data)
    check_tool(request)
    TOOLS[request["tool"]](session_id, request, cancel)


def validate_tool_credentials(session_id, data, cancel):
    """pytools needs no credentials, so any are valid, except that the test
    credential "validation" picks how the provider answers: "rejected" raises
    the SDK's ToolProviderCredentialValidationError (error, then end), and
    "silent" answers nothing, which the SDK streams as only an end."""
    request = validate("ToolValidateCredentialsRequest", data)
    if request["provider"] != PROVIDER:
        raise ValueError("Provider `%s` not found" % request["provider"])
    mode = request["credentials"].get("validation")
    if mode == "rejected":
        raise ToolProviderCredentialValidationError("the credentials were rejected (validation=rejected)")
    if mode != "silent":
        stream(session_id, {"result": True})


def get_tool_runtime_parameters(session_id, data, cancel):
    request = validate("ToolGetRuntimeParametersRequest", data)
    check_tool(request)
    answer = RUNTIME_PARAMETERS[request["tool"]]
    if answer is NOT_IMPLEMENTED:
        raise ValueError("Tool `%s` does not implement runtime parameters" % request["tool"])
    if answer is not None:
        stream(session_id, {"parameters": answer()})


ROUTES = {
    ("tool", "invoke_tool"): invoke_tool,
    ("tool", "validate_tool_credentials"): validate_tool_credentials,
    ("tool", "get_tool_runtime_parameters"): get_tool_runtime_parameters,
}


def handle(session_id, data):
    """Run one request; like the SDK: error (if any), then always end."""
    cancel = threading.Event()
    with _cancels_lock:
        _cancels[session_id] = cancel
    try:
        route = ROUTES.get((data.get("type"), data.get("action")))
        if route is not None:  # no route: nothing but the end, as the SDK
            route(session_id, data, cancel)
    except Exception as e:  # the SDK's IOServer: any exception, args {}
        session(session_id, "error", {"error_type": type(e).__name__, "message": str(e), "args": {}})
    finally:
        with _cancels_lock:
            _cancels.pop(session_id, None)
    session(session_id, "end", {})


# Input -------------------------------------------------------------------

def on_line(line):
    line = line.rstrip(b"\n")
    try:
        msg = json.loads(line)
    except ValueError as e:  # an empty line too, as the SDK's reader
        instance_error("Invalid JSON: %s" % e)
        return
    if not isinstance(msg, dict):
        instance_error("Input should be a valid dictionary")
        return
    if msg.get("event") == "cancel":  # Plugboard's extension
        with _cancels_lock:
            cancel = _cancels.get(msg.get("session_id"))
        if cancel is not None:
            cancel.set()
        return
    # The SDK's stdio reader indexes these three keys; a missing one is a KeyError.
    for key in ("session_id", "event", "data"):
        if key not in msg:
            instance_error(repr(key))
            return
    event = msg["event"]
    if event == "backwards_response":
        return  # answers to calls into the platform; pytools makes none
    if event != "request":
        instance_error("Invalid value for PluginInStream.Event: %s" % event)
        return
    data = msg["data"]
    if not isinstance(data, dict):
        instance_error("request data should be a dictionary, not %s" % type(data).__name__)
        return
    threading.Thread(target=handle, args=(msg["session_id"], data), daemon=True).start()


def main():
    # Dify's SDK prints its configuration first; a line without "event" is ignored.
    write({"INSTALL_METHOD": "local", "HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL, "PLUGIN": PROVIDER})
    threading.Thread(target=heartbeats, daemon=True).start()
    for name in TOOLS:
        log("Installed tool: %s" % name)
    for line in sys.stdin.buffer:
        on_line(line)
    # stdin closed: the daemon is gone or stopping us.
    sys.exit(0)


if __name__ == "__main__":
    main()
