// The tool playground: the tool picker's filter and auto-open, the
// history's auto-filtering, and a run's live output. Messages arrive as
// server-rendered (escaped) HTML fragments over SSE, each rendered and raw;
// the raw part goes to the message list. EventSource resumes with
// Last-Event-ID after a dropped connection, and the server replays from there
// without re-running the tool. A run started from the form replaces the run
// pane (htmx); the new pane is followed and the old stream closed.
(function () {
  "use strict";

  // Picking a tool opens its form; a history filter applies at once.
  document.addEventListener("change", function (e) {
    if (!e.target.matches || !e.target.matches("select[data-autosubmit]")) return;
    if (e.target.value || e.target.getAttribute("data-autosubmit") === "always") {
      e.target.form.submit();
    }
  });

  // The filter box hides tools whose label or group does not match.
  document.addEventListener("input", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-tool-filter");
    if (!id) return;
    var q = e.target.value.toLowerCase();
    var sel = document.getElementById(id);
    sel.querySelectorAll("optgroup").forEach(function (g) {
      var any = false;
      g.querySelectorAll("option").forEach(function (o) {
        var hit = !q || (g.label + " " + o.textContent).toLowerCase().indexOf(q) >= 0;
        o.hidden = !hit;
        any = any || hit;
      });
      g.hidden = !any;
    });
  });

  // Copy buttons copy the text of the element they name.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.textContent).then(function () {
        btn.textContent = "Copied";
      });
    }
  });

  // An admin's "put the daemon key in" fetches the key (it is never written
  // into the page) and puts it in place of the shell variable, so the copied
  // command runs as it is.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-fill-key]");
    if (!btn) return;
    var pre = document.getElementById(btn.getAttribute("data-target"));
    var status = btn.parentNode.querySelector("[data-testid=curl-key-status]");
    var say = function (text) { if (status) status.textContent = text; };
    fetch(btn.getAttribute("data-fill-key"), { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (!res.ok) throw new Error("the app answered " + res.status);
        return res.text();
      })
      .then(function (key) {
        pre.textContent = pre.textContent.split(pre.getAttribute("data-key-var")).join(key);
        btn.disabled = true;
        say("The daemon key is in the command; keep it to yourself.");
      })
      .catch(function (err) { say("Could not get the daemon key: " + err.message); });
  });

  // Chunks of a streamed variable grow its first block instead of adding
  // a line each.
  function mergeStreamedVariables(out) {
    var heads = {};
    out.querySelectorAll(".out-var[data-stream]").forEach(function (el) {
      var name = el.getAttribute("data-var");
      var head = heads[name];
      if (!head) {
        heads[name] = el;
        return;
      }
      head.querySelector(".var-value").textContent += el.querySelector(".var-value").textContent;
      el.remove();
    });
  }

  var streams = [];

  // follow shows a run's messages as they are stored: the output and the
  // raw list start empty (the stream replays from the first message).
  function follow(out) {
    out.setAttribute("data-following", "");
    out.textContent = "";
    var raw = document.getElementById(out.getAttribute("data-raw-list"));
    var count = document.querySelector("[data-testid=raw-count]");
    var calls = document.getElementById(out.getAttribute("data-call-back-list"));
    if (raw) raw.textContent = "";
    if (calls) calls.textContent = "";
    var es = new EventSource(out.getAttribute("data-run-events"));
    streams.push({ es: es, el: out });
    var pending = [];
    var scheduled = false;
    // DOM updates are batched per animation frame so long streams stay smooth.
    function flush() {
      scheduled = false;
      if (!pending.length) return;
      var tpl = document.createElement("template");
      tpl.innerHTML = pending.join("");
      pending = [];
      var rows = tpl.content.querySelectorAll("[data-raw]");
      rows.forEach(function (row) {
        if (raw) raw.appendChild(row); else row.remove();
      });
      // The plugin's calls back are run events, listed beside the output.
      tpl.content.querySelectorAll("[data-call-back]").forEach(function (row) {
        if (!calls) return row.remove();
        calls.appendChild(row);
        calls.parentNode.hidden = false;
      });
      out.appendChild(tpl.content);
      mergeStreamedVariables(out);
      if (raw && count) count.textContent = String(raw.children.length);
    }
    es.addEventListener("message", function (e) {
      pending.push(e.data);
      if (!scheduled) {
        scheduled = true;
        window.requestAnimationFrame(flush);
      }
    });
    es.addEventListener("status", function (e) {
      flush();
      var old = document.getElementById("run-status");
      if (old) old.outerHTML = e.data;
    });
    es.addEventListener("done", function () {
      flush();
      es.close();
      var cancel = document.querySelector("form[data-run-cancel]");
      if (cancel) cancel.hidden = true;
    });
  }

  // start follows every run output not yet followed, and closes the streams
  // of outputs no longer on the page (a replaced run pane).
  function start() {
    streams = streams.filter(function (s) {
      if (document.contains(s.el)) return true;
      s.es.close();
      return false;
    });
    document.querySelectorAll("[data-run-events]:not([data-following])").forEach(follow);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:afterSettle", function (e) {
    start();
    // Stacked (a narrow screen), a new run's pane is below the form: bring
    // it into view.
    var pane = e.detail && e.detail.elt;
    if (pane && pane.id === "run-pane" && window.matchMedia("(max-width: 1100px)").matches) {
      pane.scrollIntoView({ block: "start" });
    }
  });
  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll("[data-run-events][data-following]").forEach(function (el) {
      el.removeAttribute("data-following");
    });
    start();
  });
})();
