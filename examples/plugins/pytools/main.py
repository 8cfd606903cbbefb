"""pytools: an example Plugboard tool plugin using only the standard library.

It speaks the runtime protocol directly, as a Dify SDK plugin's process does
on the wire: newline-delimited JSON requests on stdin, events on stdout.
"""

import json
import sys
import threading
import time
import traceback

PROVIDER = "pytools"
HEARTBEAT_INTERVAL = 10.0

_out_lock = threading.Lock()
_cancels = {}  # session id -> threading.Event, for the sessions running now
_cancels_lock = threading.Lock()


class Cancelled(Exception):
    """The daemon cancelled the session."""


class ToolNotFoundError(Exception):
    """The request names a tool or provider this plugin does not serve."""


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


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(HEARTBEAT_INTERVAL)


def log(message, level="INFO"):
    write({"event": "log", "session_id": None,
           "data": {"level": level, "message": message, "timestamp": time.time()}})


# Tools -------------------------------------------------------------------

def echo(session_id, params, cancel):
    """Stream the text back word by word, optionally upper-cased and paced."""
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


def word_count(session_id, params, cancel):
    """Return counts of the text's words, characters and lines as JSON."""
    text = str(params.get("text") or "")
    stream(session_id, tool_message("json", {"json_object": {
        "words": len(text.split()),
        "characters": len(text),
        "lines": len(text.splitlines()),
    }}))


TOOLS = {"echo": echo, "word_count": word_count}


# Requests ----------------------------------------------------------------

def dispatch(session_id, data, cancel):
    if data.get("type") != "tool":
        raise ValueError("request type %r is not supported (only 'tool')" % data.get("type"))
    if data.get("provider") != PROVIDER:
        raise ToolNotFoundError("provider %r is not served by this plugin" % data.get("provider"))
    action = data.get("action")
    if action == "validate_tool_credentials":
        stream(session_id, {"result": True})  # pytools needs no credentials
    elif action == "get_tool_runtime_parameters":
        stream(session_id, {"parameters": []})
    elif action == "invoke_tool":
        tool = TOOLS.get(data.get("tool"))
        if tool is None:
            raise ToolNotFoundError("tool %r of provider %r is not served by this plugin"
                                    % (data.get("tool"), PROVIDER))
        tool(session_id, data.get("tool_parameters") or {}, cancel)
    else:
        raise ValueError("action %r is not supported" % action)


def handle(session_id, data):
    cancel = threading.Event()
    with _cancels_lock:
        _cancels[session_id] = cancel
    try:
        dispatch(session_id, data, cancel)
    except (Cancelled, ToolNotFoundError, ValueError) as e:
        session(session_id, "error", {"error_type": type(e).__name__, "message": str(e), "args": {}})
    except Exception as e:  # an unexpected failure: send the traceback too
        session(session_id, "error", {"error_type": type(e).__name__, "message": str(e),
                                      "args": {"traceback": traceback.format_exc()}})
    finally:
        with _cancels_lock:
            _cancels.pop(session_id, None)
    session(session_id, "end", {})


def on_line(line):
    line = line.strip()
    if not line:
        return
    try:
        msg = json.loads(line)
    except ValueError as e:
        log("skipped an input line that is not JSON: %s" % e, "WARNING")
        return
    if not isinstance(msg, dict):
        return
    event, session_id = msg.get("event"), msg.get("session_id")
    if event == "cancel":
        with _cancels_lock:
            cancel = _cancels.get(session_id)
        if cancel is not None:
            cancel.set()
    elif event == "request":
        threading.Thread(target=handle, args=(session_id, msg.get("data") or {}), daemon=True).start()


def main():
    # Dify's SDK prints its configuration first; a line without "event" is ignored.
    write({"INSTALL_METHOD": "local", "HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL, "PLUGIN": PROVIDER})
    threading.Thread(target=heartbeats, daemon=True).start()
    for line in sys.stdin.buffer:
        on_line(line)
    # stdin closed: the daemon is gone or stopping us.
    sys.exit(0)


if __name__ == "__main__":
    main()
