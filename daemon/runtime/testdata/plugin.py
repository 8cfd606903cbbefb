"""Test plugin speaking the runtime protocol directly (stdlib only).

Start-up flags (argv): silent (never heartbeat), exit (fail at start),
garbage (write junk and an over-long line first), spawn (start a child
`sleep` and report its pid), env (print the environment to stderr).
Tools (request data "tool"): echo, stream, big, big_last, odd, slow, ignore_cancel, crash,
fail, alloc, stop_heartbeat, spawn, log.
"""
import json
import os
import subprocess
import sys
import threading
import time

out_lock = threading.Lock()
cancelled = {}
heartbeat = {"on": True}
hoard = []


def send(obj):
    line = json.dumps(obj) + "\n\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def err(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def chunk(sid, text):
    send({"event": "session", "session_id": sid, "data": {"type": "stream", "data": {
        "type": "text", "message": {"text": text}, "meta": None}}})


def end(sid):
    send({"event": "session", "session_id": sid, "data": {"type": "end", "data": {}}})


def wait_cancel(sid, seconds):
    ev = cancelled.setdefault(sid, threading.Event())
    return ev.wait(seconds)


def handle(sid, data):
    tool = data.get("tool")
    params = data.get("tool_parameters") or {}
    if tool == "echo":
        chunk(sid, params.get("text", ""))
        end(sid)
    elif tool == "stream":
        for i in range(int(params.get("n", 3))):
            chunk(sid, "chunk %d" % i)
        end(sid)
    elif tool == "big":
        chunk(sid, "y" * int(params.get("size", 1 << 20)))
        end(sid)
    elif tool == "big_last":  # the envelope's session_id after its data
        send({"data": {"type": "stream", "data": {"type": "text", "message": {
            "text": "z" * int(params.get("size", 1 << 20))}, "meta": None}},
            "event": "session", "session_id": sid})
        end(sid)
    elif tool == "odd":  # messages the daemon must drop (and say so)
        for _ in range(2):
            send({"event": "session", "session_id": sid, "data": {"type": "weird", "data": {}}})
            send({"event": "session", "session_id": "no-such-session", "data": {"type": "end", "data": {}}})
            send({"event": "mystery", "session_id": sid, "data": {}})
        end(sid)
    elif tool == "slow":
        if wait_cancel(sid, float(params.get("seconds", 600))):
            err("cancelled " + sid)
            return
        chunk(sid, "slept")
        end(sid)
    elif tool == "ignore_cancel":
        chunk(sid, "working")
        time.sleep(600)
    elif tool == "crash":
        chunk(sid, "partial")
        time.sleep(0.05)
        err("fatal: crashing on purpose")
        os._exit(2)
    elif tool == "fail":
        send({"event": "session", "session_id": sid, "data": {"type": "error", "data": {
            "error_type": "ValueError", "message": "bad input", "args": {"field": "text"}}}})
        end(sid)
    elif tool == "alloc":
        hoard.append(bytearray(int(params.get("mb", 200)) << 20))
        for i in range(0, len(hoard[-1]), 4096):
            hoard[-1][i] = 1
        chunk(sid, "allocated")
        time.sleep(600)
    elif tool == "stop_heartbeat":
        heartbeat["on"] = False
        chunk(sid, "silent now")
        time.sleep(600)
    elif tool == "spawn":
        child = subprocess.Popen(["sleep", "300"])
        chunk(sid, str(child.pid))
        end(sid)
    elif tool == "log":
        send({"event": "log", "data": {"level": "INFO", "message": params.get("text", ""),
                                       "timestamp": time.time()}})
        end(sid)
    else:
        send({"event": "session", "session_id": sid, "data": {"type": "error", "data": {
            "error_type": "ToolNotFound", "message": "no tool %s" % tool}}})


def heartbeats(interval):
    while True:
        if heartbeat["on"]:
            send({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(interval)


def main():
    flags = sys.argv[1:]
    if "once" in flags:
        if os.path.exists("started-once"):
            err("refusing to start twice")
            sys.exit(3)
        open("started-once", "w").close()
    if "exit" in flags:
        err("boom: missing module")
        sys.exit(3)
    if "env" in flags:
        for k, v in sorted(os.environ.items()):
            err("ENV %s=%s" % (k, v))
    if "spawn" in flags:
        child = subprocess.Popen(["sleep", "300"])
        err("child %d" % child.pid)
    send({"config": {"install_method": "local"}})
    if "garbage" in flags:
        with out_lock:
            sys.stdout.write("this is not json {\n")
            sys.stdout.write("x" * (6 << 20) + "\n")
            sys.stdout.write('{"event": 42}\n')
            sys.stdout.flush()
    if "silent" not in flags:
        threading.Thread(target=heartbeats, args=(0.2,), daemon=True).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        sid = msg.get("session_id")
        if msg.get("event") == "cancel":
            cancelled.setdefault(sid, threading.Event()).set()
        elif msg.get("event") == "request":
            threading.Thread(target=handle, args=(sid, msg["data"]), daemon=True).start()


if __name__ == "__main__":
    main()
