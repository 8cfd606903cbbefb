"""Test plugin that calls back into its host (stdlib only), writing the
frames Dify's SDK (dify_plugin) writes: a session message of type invoke
with type, backwards_request_id and request, then reading the daemon's
backwards_response lines, matched by backwards_request_id, until end.

Tools (request data "tool"):
  calls    tool_parameters.calls = [{"type": ..., "request": {...}}, ...]; the
           calls are made one after another, or all at once when
           tool_parameters.parallel is true. The answer is one text chunk:
           the JSON list, per call, of the frames received for it.
  raw      tool_parameters.data is sent as the invoke message's data as is
           (a malformed call back); the session then waits.
"""
import json
import queue
import sys
import threading
import time
import uuid

out_lock = threading.Lock()
waiting = {}  # backwards_request_id -> queue of frames
waiting_lock = threading.Lock()


def send(obj):
    line = json.dumps(obj) + "\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def session(sid, typ, data):
    send({"event": "session", "session_id": sid, "data": {"type": typ, "data": data}})


def call_back(sid, typ, request):
    rid = uuid.uuid4().hex
    q = queue.Queue()
    with waiting_lock:
        waiting[rid] = q
    session(sid, "invoke", {"type": typ, "backwards_request_id": rid, "request": request})
    frames = []
    while True:
        try:
            f = q.get(timeout=120)
        except queue.Empty:
            frames.append({"event": "timeout"})
            break
        frames.append({"event": f.get("event"), "message": f.get("message"), "data": f.get("data")})
        if f.get("event") == "end":
            break
    with waiting_lock:
        del waiting[rid]
    return frames


def handle(sid, data):
    tool = data.get("tool")
    params = data.get("tool_parameters") or {}
    if tool == "calls":
        calls = params.get("calls") or []
        results = [None] * len(calls)
        if params.get("parallel"):
            def one(i, c):
                results[i] = call_back(sid, c["type"], c["request"])
            threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        else:
            for i, c in enumerate(calls):
                results[i] = call_back(sid, c["type"], c["request"])
        session(sid, "stream", {"type": "text", "message": {"text": json.dumps(results)}, "meta": None})
        session(sid, "end", {})
    elif tool == "raw":
        session(sid, "invoke", params.get("data"))
    else:
        session(sid, "error", {"error_type": "ToolNotFound", "message": "no tool %s" % tool})


def heartbeats():
    while True:
        send({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(0.2)


def main():
    send({"config": {"install_method": "local"}})
    threading.Thread(target=heartbeats, daemon=True).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        ev = msg.get("event")
        if ev == "request":
            threading.Thread(target=handle, args=(msg.get("session_id"), msg["data"]), daemon=True).start()
        elif ev == "backwards_response":
            d = msg.get("data") or {}
            with waiting_lock:
                q = waiting.get(d.get("backwards_request_id"))
            if q is not None:
                q.put(d)


if __name__ == "__main__":
    main()
