"""pystrategy: a test agent-strategy plugin using only the standard library.

For invoke_agent_strategy it streams what Dify's official strategies
stream — a ROUND log, text, the ROUND's end, a json message with
execution_metadata — reporting the parameters it was given (model, tools,
instruction, query, maximum_iterations), so a test can see Plugboard sends
Dify's shapes. It calls nothing back.
"""

import json
import sys
import threading
import time

_out = threading.Lock()


def write(event):
    with _out:
        sys.stdout.buffer.write((json.dumps(event, separators=(",", ":")) + "\n\n").encode("utf-8"))
        sys.stdout.buffer.flush()


def session(sid, kind, data):
    write({"event": "session", "session_id": sid, "data": {"type": kind, "data": data}})


def message(sid, kind, msg):
    session(sid, "stream", {"type": kind, "message": msg, "meta": None})


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(10)


def report(sid, data):
    params = data.get("agent_strategy_params") or {}
    model = params.get("model") or {}
    tools = [t.get("identity", {}).get("name", "?") + "@" + t.get("identity", {}).get("provider", "?")
             for t in params.get("tools") or []]
    for n, text in ((1, "model %s/%s (%s); " % (model.get("provider"), model.get("model"), model.get("model_type"))),
                    (2, "tools %s; query %s; instruction %s; at most %s iterations" % (
                        ",".join(tools), params.get("query"), params.get("instruction"), params.get("maximum_iterations")))):
        rid = "round-%d" % n
        message(sid, "log", {"id": rid, "label": "ROUND %d" % n, "parent_id": None, "error": None, "status": "start",
                             "data": {}, "metadata": {}})
        message(sid, "text", {"text": text})
        message(sid, "log", {"id": rid, "label": "ROUND %d" % n, "parent_id": None, "error": None, "status": "success",
                             "data": {"output": text}, "metadata": {"total_tokens": 10 * n}})
    message(sid, "json", {"json_object": {"execution_metadata": {"total_tokens": 30}}})


def main():
    threading.Thread(target=heartbeats, daemon=True).start()
    for line in sys.stdin.buffer:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if not isinstance(msg, dict) or msg.get("event") != "request":
            continue
        sid, data = msg.get("session_id"), msg.get("data") or {}
        if data.get("type") == "agent_strategy" and data.get("action") == "invoke_agent_strategy":
            report(sid, data)
        session(sid, "end", {})


if __name__ == "__main__":
    main()
