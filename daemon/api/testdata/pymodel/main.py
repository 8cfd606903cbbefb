"""pymodel: a test model provider using only the standard library.

It speaks the runtime protocol directly, as a plugin built on Dify's Python
SDK (dify_plugin) does: requests are routed on (type, action), their data is
checked against the SDK's pydantic request models (a missing field or a wrong
type is refused with pydantic's wording), every session ends with end (after
an error too), and an error is {"error_type", "message", "args"}.

What it answers is deterministic, so tests can check it:

* invoke_llm streams the last user message back word by word, one
  LLMResultChunk per word, then a last chunk with usage and finish_reason
  stop. The model name picks other behaviours: "tool-call" asks for the first
  tool offered; "slow" streams a chunk every 20 ms until cancelled; "bad-chunk"
  sends one good chunk, then one without delta.index, then keeps streaming
  until cancelled. model_parameters.words sets how many words "slow" repeats;
  model_parameters.repeat repeats the echoed words, pause_ms pauses between
  their chunks.
* credentials {"error_type": T, "message": M} makes any action raise T(M), as
  the SDK reports a provider's InvokeRateLimitError and friends.
* validate_*_credentials accept api_key "good" (echoing the credentials with
  "normalised": true), raise CredentialsValidateFailedError for any other
  key, and answer nothing for "silent".

A cancel line ({"event": "cancel", "session_id": S}, Plugboard's extension)
stops the session and is logged as "cancelled S".
"""

import json
import sys
import threading
import time

PROVIDER = "pymodel"
HEARTBEAT_INTERVAL = 10.0

_out_lock = threading.Lock()
_cancels = {}
_cancels_lock = threading.Lock()


class Cancelled(Exception):
    """The daemon cancelled the session."""


class PluginError(Exception):
    """An error raised under the name the request asked for."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def write(event):
    data = (json.dumps(event, separators=(",", ":")) + "\n\n").encode("utf-8")
    with _out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def session(session_id, kind, data):
    write({"event": "session", "session_id": session_id, "data": {"type": kind, "data": data}})


def stream(session_id, chunk):
    session(session_id, "stream", chunk)


def log(message, level="INFO"):
    write({"event": "log", "session_id": None,
           "data": {"level": level, "message": message, "timestamp": time.time()}})


# Request validation, as the SDK's pydantic models do it -------------------

MODEL_TYPES = ("llm", "text-embedding", "rerank", "speech2text", "moderation", "tts", "text2img")
MISSING = object()


def is_str(v):
    return isinstance(v, str)


def is_dict(v):
    return isinstance(v, dict)


def is_bool(v):
    return isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def list_of(check):
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def nullable(check):
    return lambda v: v is None or check(v)


def model_type(v):
    return v in MODEL_TYPES


def prompt_message(m):
    if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool", "developer"):
        return False
    content = m.get("content")
    if not (content is None or isinstance(content, str) or list_of(content_part)(content)):
        return False
    if m["role"] == "tool" and not is_str(m.get("tool_call_id", MISSING)):
        return False
    if m["role"] == "assistant" and not list_of(tool_call)(m.get("tool_calls", [])):
        return False
    return True


def content_part(p):
    if not isinstance(p, dict):
        return False
    if p.get("type") == "text":
        return is_str(p.get("data", MISSING))
    if p.get("type") in ("image", "audio", "video", "document"):
        ok = is_str(p.get("format", MISSING)) and is_str(p.get("mime_type", MISSING))
        return ok and p.get("detail", "low") in ("low", "high")
    return False


def tool_call(c):
    return isinstance(c, dict) and "id" in c and is_dict(c.get("function")) \
        and is_str(c["function"].get("name", "")) and is_str(c["function"].get("arguments", ""))


def tool(t):
    return isinstance(t, dict) and is_str(t.get("name", MISSING)) \
        and is_str(t.get("description", MISSING)) and is_dict(t.get("parameters", MISSING))


BASE = [("user_id", is_str), ("provider", is_str), ("model_type", model_type), ("model", is_str),
        ("credentials", is_dict)]

# The SDK's request models (dify_plugin.core.entities.plugin.request), by
# action: required fields and their checks; fields with defaults are absent.
MODELS = {
    "invoke_llm": BASE + [("prompt_messages", list_of(prompt_message)), ("model_parameters", is_dict),
                          ("stop", nullable(list_of(is_str))), ("tools", nullable(list_of(tool)))],
    "get_llm_num_tokens": BASE + [("prompt_messages", list_of(prompt_message)), ("tools", nullable(list_of(tool)))],
    "invoke_text_embedding": BASE + [("texts", list_of(is_str))],
    "get_text_embedding_num_tokens": BASE + [("texts", list_of(is_str))],
    "invoke_rerank": BASE + [("query", is_str), ("docs", list_of(is_str)),
                             ("score_threshold", nullable(is_num)), ("top_n", nullable(is_int))],
    "invoke_tts": BASE + [("content_text", is_str), ("voice", is_str), ("tenant_id", is_str)],
    "get_tts_model_voices": BASE + [("language", nullable(is_str))],
    "invoke_speech2text": BASE + [("file", is_str)],
    "invoke_moderation": BASE + [("text", is_str)],
    "validate_provider_credentials": [("user_id", is_str), ("provider", is_str), ("credentials", is_dict)],
    "validate_model_credentials": BASE,
    "get_ai_model_schemas": BASE,
}


def validate(action, data):
    errors = []
    for name, check in MODELS[action]:
        if name not in data:
            errors.append("%s\n  Field required [type=missing]" % name)
        elif not check(data[name]):
            errors.append("%s\n  Input is not valid [input_value=%.60r]" % (name, data[name]))
    if "stream" in data and not is_bool(data["stream"]):
        errors.append("stream\n  Input should be a valid boolean")
    if errors:
        raise ValueError("%d validation error%s for %s\n%s" % (
            len(errors), "" if len(errors) == 1 else "s", action, "\n".join(errors)))
    if data["provider"] != PROVIDER:
        raise ValueError("Provider `%s` not found" % data["provider"])


# Models ------------------------------------------------------------------

def usage(prompt_tokens, completion_tokens, latency):
    return {"prompt_tokens": prompt_tokens, "prompt_unit_price": "0.001", "prompt_price_unit": "0.001",
            "prompt_price": "0.000001", "completion_tokens": completion_tokens,
            "completion_unit_price": "0.002", "completion_price_unit": "0.001", "completion_price": "0.000002",
            "total_tokens": prompt_tokens + completion_tokens, "total_price": "0.000003", "currency": "USD",
            "latency": latency}


def chunk(model, index, text, **delta):
    d = {"index": index, "message": {"role": "assistant", "content": text, "tool_calls": []}}
    d.update(delta)
    return {"model": model, "prompt_messages": [], "system_fingerprint": None, "delta": d}


def text_of(message):
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(p.get("data", "") for p in content if p.get("type") == "text")
    return content or ""


def last_user_text(messages):
    for m in reversed(messages):
        if m["role"] == "user":
            return text_of(m)
    return ""


def count_words(messages):
    return sum(len(text_of(m).split()) for m in messages)


def invoke_llm(sid, data, cancel):
    start, model, messages = time.time(), data["model"], data["prompt_messages"]
    prompt_tokens = count_words(messages)
    if model == "tool-call" and data["tools"]:
        name = data["tools"][0]["name"]
        call = {"id": "call_1", "type": "function",
                "function": {"name": name, "arguments": json.dumps({"text": last_user_text(messages)})}}
        c = chunk(model, 0, "")
        c["delta"]["message"]["tool_calls"] = [call]
        stream(sid, c)
        stream(sid, chunk(model, 1, "", usage=usage(prompt_tokens, 1, time.time() - start),
                          finish_reason="tool_calls"))
        return
    if model in ("slow", "bad-chunk"):
        stream(sid, chunk(model, 0, "first"))
        if model == "bad-chunk":
            bad = chunk(model, 1, " second")
            del bad["delta"]["index"]
            stream(sid, bad)
        i = 1
        while not cancel.wait(0.02):
            stream(sid, chunk(model, i, " more"))
            i += 1
        raise Cancelled("cancelled")
    words = last_user_text(messages).split() or ["(nothing)"]
    repeat = int(data["model_parameters"].get("repeat", 1))
    words = words * repeat
    pause = float(data["model_parameters"].get("pause_ms", 0)) / 1000
    for i, w in enumerate(words):
        if cancel.is_set():
            raise Cancelled("cancelled")
        if pause and i:
            time.sleep(pause)
        stream(sid, chunk(model, i, w if i == 0 else " " + w))
    stream(sid, chunk(model, len(words), "", usage=usage(prompt_tokens, len(words), time.time() - start),
                      finish_reason="stop"))


def get_llm_num_tokens(sid, data, cancel):
    tools = data["tools"] or []
    stream(sid, {"num_tokens": count_words(data["prompt_messages"]) + len(tools)})


def vector(text):
    return [float(len(text)), float(sum(c in "aeiou" for c in text)), float(len(text.split()))]


def invoke_text_embedding(sid, data, cancel):
    tokens = sum(len(t.split()) for t in data["texts"])
    stream(sid, {"model": data["model"], "embeddings": [vector(t) for t in data["texts"]],
                 "usage": {"tokens": tokens, "total_tokens": tokens, "unit_price": "0.0001", "price_unit": "0.001",
                           "total_price": "0.0000001", "currency": "USD", "latency": 0.01},
                 "input_type": data.get("input_type")})


def get_text_embedding_num_tokens(sid, data, cancel):
    stream(sid, {"num_tokens": [len(t.split()) for t in data["texts"]]})


def invoke_rerank(sid, data, cancel):
    query = set(data["query"].lower().split())
    docs = []
    for i, d in enumerate(data["docs"]):
        words = set(d.lower().split())
        score = len(query & words) / float(len(query) or 1)
        if data["score_threshold"] is None or score >= data["score_threshold"]:
            docs.append({"index": i, "text": d, "score": score})
    docs.sort(key=lambda d: -d["score"])
    if data["top_n"]:
        docs = docs[:data["top_n"]]
    stream(sid, {"model": data["model"], "docs": docs})


def invoke_tts(sid, data, cancel):
    audio = ("[%s] %s" % (data["voice"], data["content_text"])).encode("utf-8")
    half = len(audio) // 2
    for part in (audio[:half], audio[half:]):
        stream(sid, {"result": part.hex(), "mime_type": "audio/x-test"})


VOICES = [{"mode": "alloy", "name": "Alloy", "language": ["en-US", "fr-FR"]},
          {"mode": "echo", "name": "Echo", "language": ["de-DE"]}]


def get_tts_model_voices(sid, data, cancel):
    language = data["language"]
    stream(sid, {"voices": [{"name": v["name"], "value": v["mode"]} for v in VOICES
                            if not language or language in v["language"]]})


def invoke_speech2text(sid, data, cancel):
    stream(sid, {"result": bytes.fromhex(data["file"]).decode("utf-8", "replace")})


def invoke_moderation(sid, data, cancel):
    stream(sid, {"result": "forbidden" in data["text"]})


def validate_credentials(sid, data, cancel):
    key = data["credentials"].get("api_key")
    if key == "silent":
        return
    if key != "good":
        raise PluginError("CredentialsValidateFailedError", "api_key %r is not valid" % key)
    stream(sid, {"result": True, "credentials": dict(data["credentials"], normalised=True)})


def get_ai_model_schemas(sid, data, cancel):
    if data["model"] == "unknown":
        stream(sid, {"model_schema": None})
        return
    stream(sid, {"model_schema": {
        "model": data["model"], "label": {"en_US": data["model"]}, "model_type": data["model_type"],
        "features": ["tool-call"], "fetch_from": "customizable-model",
        "model_properties": {"mode": "chat", "context_size": 8192}, "parameter_rules": [],
        "pricing": None, "deprecated": False}})


ROUTES = {
    "invoke_llm": invoke_llm, "get_llm_num_tokens": get_llm_num_tokens,
    "invoke_text_embedding": invoke_text_embedding, "get_text_embedding_num_tokens": get_text_embedding_num_tokens,
    "invoke_rerank": invoke_rerank, "invoke_tts": invoke_tts, "get_tts_model_voices": get_tts_model_voices,
    "invoke_speech2text": invoke_speech2text, "invoke_moderation": invoke_moderation,
    "validate_provider_credentials": validate_credentials, "validate_model_credentials": validate_credentials,
    "get_ai_model_schemas": get_ai_model_schemas,
}


def handle(sid, data):
    """Run one request; like the SDK: error (if any), then always end."""
    cancel = threading.Event()
    with _cancels_lock:
        _cancels[sid] = cancel
    try:
        action = data.get("action")
        if data.get("type") == "model" and action in ROUTES:
            validate(action, data)
            raised = data["credentials"].get("error_type")
            if raised:
                raise PluginError(raised, data["credentials"].get("message", "raised on request"))
            ROUTES[action](sid, data, cancel)
    except Cancelled:
        log("cancelled %s" % sid)
    except PluginError as e:
        session(sid, "error", {"error_type": e.error_type, "message": str(e), "args": {}})
    except Exception as e:
        session(sid, "error", {"error_type": type(e).__name__, "message": str(e), "args": {}})
    finally:
        with _cancels_lock:
            _cancels.pop(sid, None)
    session(sid, "end", {})


def on_line(line):
    try:
        msg = json.loads(line)
    except ValueError as e:
        write({"event": "error", "session_id": None, "data": {"error": "Invalid JSON: %s" % e}})
        return
    if msg.get("event") == "cancel":
        with _cancels_lock:
            cancel = _cancels.get(msg.get("session_id"))
        if cancel is not None:
            cancel.set()
        return
    if msg.get("event") != "request" or not isinstance(msg.get("data"), dict):
        write({"event": "error", "session_id": None, "data": {"error": "unexpected line"}})
        return
    threading.Thread(target=handle, args=(msg["session_id"], msg["data"]), daemon=True).start()


def heartbeats():
    while True:
        write({"event": "heartbeat", "session_id": None, "data": {}})
        time.sleep(HEARTBEAT_INTERVAL)


def main():
    write({"INSTALL_METHOD": "local", "HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL, "PLUGIN": PROVIDER})
    threading.Thread(target=heartbeats, daemon=True).start()
    for line in sys.stdin.buffer:
        on_line(line)
    sys.exit(0)


if __name__ == "__main__":
    main()
