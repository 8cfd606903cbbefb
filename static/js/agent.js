// The agent playground's run pane: a live run's events (GET
// /agent/runs/{id}/events, one server-sent event per agent event, named
// by its type, the event as JSON) are written into the pane as they come —
// each step, the model's text, each tool call with its arguments as it
// starts, its calls back into the platform, its output as it streams, its observation and timings — and at
// the end the pane, the history and the builder's "continue" choice are
// swapped for the server's rendering of the stored run (its page, fetched
// again).
(function () {
  "use strict";

  function el(tag, cls, text, testid) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    if (testid) e.setAttribute("data-testid", testid);
    return e;
  }

  function ms(v) { return (v || 0).toFixed(0) + " ms"; }

  function follow(pane) {
    var steps = pane.querySelector("[data-testid=agent-steps]");
    var src = new EventSource(pane.getAttribute("data-events"));
    var current = {};
    var seenCalls = 0;
    var seenCallBacks = 0;

    function step(n) {
      var d = steps.querySelector('[data-step="' + n + '"]');
      if (d) return d;
      d = el("details", "agent-step", "", "agent-step");
      d.setAttribute("data-step", n);
      d.open = true;
      var sum = el("summary", "", "Step " + n + " ", "agent-step-summary");
      sum.appendChild(el("span", "muted small", "model running…", "agent-step-timing"));
      d.appendChild(sum);
      d.appendChild(el("div", "agent-text", "", "agent-step-text"));
      d.appendChild(el("ul", "agent-call-backs", "", "agent-call-backs"));
      steps.appendChild(d);
      return d;
    }

    function call(n, c) {
      var s = step(n);
      var d = s.querySelector('[data-call-id="' + CSS.escape(c.id) + '"]');
      if (d) return d;
      d = el("details", "agent-call", "", "agent-call");
      d.setAttribute("data-call-id", c.id);
      d.setAttribute("data-name", c.name);
      d.setAttribute("data-status", c.status);
      d.open = true;
      var sum = el("summary");
      sum.appendChild(el("code", "", c.name));
      sum.appendChild(document.createTextNode(" "));
      sum.appendChild(el("span", "badge call-" + c.status, c.status, "agent-call-status"));
      sum.appendChild(document.createTextNode(" "));
      sum.appendChild(el("span", "muted small", "", "agent-call-took"));
      d.appendChild(sum);
      d.appendChild(el("pre", "agent-args", c.arguments, "agent-call-args"));
      d.appendChild(el("ul", "agent-call-backs", "", "agent-call-backs"));
      d.appendChild(el("pre", "agent-output", "", "agent-call-output"));
      s.appendChild(d);
      return d;
    }

    function on(type, fn) {
      src.addEventListener(type, function (e) { fn(JSON.parse(e.data)); });
    }
    on("step", function (ev) { current.step = step(ev.step); });
    on("text", function (ev) { step(ev.step).querySelector("[data-testid=agent-step-text]").textContent += ev.text; });
    on("tool_call", function (ev) { seenCalls++; call(ev.step, ev.call); });
    on("tool_output", function (ev) {
      var out = call(ev.step, ev.call).querySelector("[data-testid=agent-call-output]");
      var o = ev.output;
      if (o.type === "text") out.textContent += o.text;
      else if (o.type === "json") out.textContent += JSON.stringify(o.json);
      else out.textContent += "[" + o.type + (o.filename ? " " + o.filename : "") + "]";
    });
    on("call_back", function (ev) {
      // A tool's call back goes under its call, a strategy plugin's in its step.
      var list = ev.call ? call(ev.step, ev.call).querySelector("[data-testid=agent-call-backs]")
        : step(ev.step).querySelector(":scope > [data-testid=agent-call-backs]");
      var cb = ev.call_back;
      seenCallBacks++;
      var li = el("li", "", "", "agent-call-back");
      li.setAttribute("data-type", cb.type);
      li.setAttribute("data-outcome", cb.outcome);
      li.appendChild(el("span", "muted", "called back "));
      li.appendChild(el("code", "", cb.type, "call-back-type"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "badge call-back-" + cb.outcome, cb.outcome, "call-back-outcome"));
      li.appendChild(el("span", "muted", " " + ms(cb.took_ms), "call-back-took"));
      if (cb.error) li.appendChild(el("span", "run-error", " " + cb.error, "call-back-error"));
      list.appendChild(li);
    });
    on("tool_result", function (ev) {
      var d = call(ev.step, ev.call);
      d.setAttribute("data-status", ev.call.status);
      var badge = d.querySelector("[data-testid=agent-call-status]");
      badge.textContent = ev.call.status;
      badge.className = "badge call-" + ev.call.status;
      d.querySelector("[data-testid=agent-call-took]").textContent = (ev.call.took_ms || 0).toFixed(1) + " ms";
      d.querySelector("[data-testid=agent-call-output]").textContent = ev.call.observation || "";
    });
    on("step_done", function (ev) {
      var s = ev.step_info;
      var t = "model " + ms(s.model_ms) + " · tools " + ms(s.tools_ms) + " · step " + ms(s.took_ms);
      if (s.usage) t += " · " + s.usage.total_tokens + " tokens";
      step(ev.step).querySelector("[data-testid=agent-step-timing]").textContent = t;
    });
    on("end", function () {
      src.close();
      // The run's page as it is now: its pane and the history.
      fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("#agent-run");
          ["agent-history", "agent-continue-slot"].forEach(function (id) {
            var now = doc.querySelector("[data-testid=" + id + "]");
            var was = document.querySelector("[data-testid=" + id + "]");
            if (now && was) was.replaceWith(now);
          });
          if (!fresh) return;
          fresh.setAttribute("data-seen-calls", seenCalls); // what the live stream showed
          fresh.setAttribute("data-seen-call-backs", seenCallBacks);
          pane.replaceWith(fresh);
        })
        .catch(function () { pane.setAttribute("data-status", "unknown"); });
    });
  }

  document.querySelectorAll('[data-testid=agent-run][data-live="true"]').forEach(follow);
})();
