// Debugging page: the copy button fetches the debug key (it is never written
// into the page) and puts it on the clipboard. No inline script (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-debug-copy]");
    if (!btn) return;
    var status = document.querySelector("[data-debug-copy-status]");
    function say(text) { if (status) status.textContent = text; }
    fetch(btn.getAttribute("data-debug-copy"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("the server answered " + r.status);
        return r.text();
      })
      .then(function (key) { return navigator.clipboard.writeText(key); })
      .then(function () { say("Copied."); })
      .catch(function (err) { say("Could not copy the key: " + err.message); });
  });
})();
