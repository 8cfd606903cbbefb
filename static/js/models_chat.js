// The model playground's chat: each turn is POSTed with the conversation
// so far to /models/chat/stream, whose server-sent events ("chat", the
// recorded chat's id; "text" pieces as JSON strings, then "done" or
// "error") are read from the fetch body and written into the page as they
// arrive. Stop aborts the request, which cancels the model's call on the
// server. A continued chat's turns come rendered in the page.
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function init(form) {
    var log = form.querySelector("[data-chat-log]");
    var msg = form.querySelector("#chat-message");
    var send = form.querySelector("[data-chat-send]");
    var stop = form.querySelector("[data-chat-stop]");
    var status = form.querySelector("[data-chat-status]");
    var chatID = form.querySelector("[data-chat-id]");
    var turns = [];
    log.querySelectorAll('[data-testid="chat-turn"]').forEach(function (li) {
      turns.push({ role: li.getAttribute("data-role"), text: li.querySelector("[data-testid=chat-text]").textContent });
    });
    var ctrl = null;

    function bubble(role, text) {
      var li = el("li", "chat-turn chat-" + role);
      li.setAttribute("data-testid", "chat-turn");
      li.setAttribute("data-role", role);
      li.appendChild(el("div", "chat-role", role === "user" ? "You" : "Model"));
      var body = el("div", "chat-text", text);
      body.setAttribute("data-testid", "chat-text");
      li.appendChild(body);
      log.appendChild(li);
      return body;
    }

    function busy(on) {
      send.disabled = on;
      stop.hidden = !on;
    }

    // Only the picked model's parameters show and are sent.
    var model = form.querySelector('select[name="model"]');
    function showParams() {
      form.querySelectorAll("[data-chat-params]").forEach(function (fs) {
        var on = fs.getAttribute("data-chat-params") === model.value;
        fs.hidden = !on;
        fs.disabled = !on;
      });
    }
    model.addEventListener("change", showParams);
    showParams();

    form.querySelector("[data-chat-clear]").addEventListener("click", function () {
      if (ctrl) ctrl.abort();
      turns = [];
      chatID.value = "";
      log.textContent = "";
      status.textContent = "";
    });
    stop.addEventListener("click", function () { if (ctrl) ctrl.abort(); });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = msg.value.trim();
      if (!text || ctrl) return;
      turns.push({ role: "user", text: text });
      bubble("user", text);
      msg.value = "";
      var answer = bubble("assistant", "");
      answer.parentNode.setAttribute("data-state", "streaming");
      var body = new FormData(form);
      body.delete("message");
      body.set("turns", JSON.stringify(turns));
      ctrl = new AbortController();
      busy(true);
      status.textContent = "Waiting for the model…";
      var token = form.querySelector('input[name="_csrf"]').value;
      var ended = false;
      function finish(state, note) {
        if (ended) return;
        ended = true;
        answer.parentNode.setAttribute("data-state", state);
        status.textContent = note;
        if (state === "done") turns.push({ role: "assistant", text: answer.textContent });
        else turns.pop(); // the user's turn is not kept without its answer
        ctrl = null;
        busy(false);
      }
      function handle(name, data) {
        var v;
        try { v = JSON.parse(data); } catch (err) { return; }
        if (name === "chat") {
          chatID.value = v;
        } else if (name === "text") {
          answer.textContent += v;
          status.textContent = "Streaming…";
        } else if (name === "done") {
          var parts = [];
          if (v.finish_reason) parts.push("finish: " + v.finish_reason);
          if (v.total_tokens) parts.push(v.total_tokens + " tokens");
          if (v.price) parts.push(v.price + " " + v.currency);
          if (answer.textContent) parts.push("first token " + v.first_ms + " ms");
          parts.push("total " + v.took_ms + " ms");
          finish("done", parts.join(" · "));
        } else if (name === "error") {
          answer.parentNode.classList.add("chat-failed");
          answer.textContent = v;
          finish("failed", "The model's call failed.");
        }
      }
      fetch("/models/chat/stream", {
        method: "POST", body: new URLSearchParams(body), signal: ctrl.signal,
        headers: { "X-CSRF-Token": token }, credentials: "same-origin",
      }).then(function (resp) {
        if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
        var reader = resp.body.getReader();
        var dec = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) { finish("failed", "The stream ended early."); return; }
            buf += dec.decode(r.value, { stream: true });
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              var frame = buf.slice(0, i);
              buf = buf.slice(i + 2);
              var name = "message", data = [];
              frame.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) name = line.slice(7);
                else if (line.indexOf("data: ") === 0) data.push(line.slice(6));
              });
              handle(name, data.join("\n"));
            }
            if (!ended) return pump();
          });
        }
        return pump();
      }).catch(function (err) {
        if (err.name === "AbortError") finish("stopped", "Stopped.");
        else finish("failed", "The chat could not reach the server: " + err.message);
      });
    });
  }

  function start() {
    document.querySelectorAll("form[data-model-chat]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
