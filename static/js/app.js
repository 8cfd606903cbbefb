// Plugboard's small browser helpers. Loaded with defer from the layout; the
// CSP forbids inline script, so everything interactive that is not htmx
// lives here. htmx itself is configured by the htmx-config meta tag and
// sends the CSRF token from <body hx-headers>.
(function () {
  "use strict";

  // Forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  }, true);

  // Flash messages close with their × button.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-dismiss]");
    if (btn) {
      var box = btn.closest(".flash");
      if (box) box.remove();
    }
    // The menu button opens and closes the nav on narrow screens.
    var toggle = e.target.closest && e.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (nav) nav.classList.toggle("open", open);
    }
    // Clicking outside an open user menu closes it.
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // The top bar stays one row while it fits; when its items would not
  // (a narrow window, long names, task badges), the nav folds behind the
  // menu button. Measured with the bar uncompacted, at load, on every
  // resize and whenever the task indicator changes.
  function fitTopbar() {
    var bar = document.querySelector(".topbar");
    if (!bar || !bar.querySelector(".nav-toggle")) return;
    bar.classList.remove("topbar-compact");
    if (window.matchMedia("(max-width: 720px)").matches) return;
    var nav = bar.querySelector(".nav");
    if (bar.scrollWidth > bar.clientWidth + 1 || (nav && nav.scrollWidth > nav.clientWidth + 1)) {
      bar.classList.add("topbar-compact");
    }
  }
  fitTopbar(); // deferred: the document is parsed
  window.addEventListener("resize", fitTopbar);
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.closest && e.target.closest(".topbar")) fitTopbar();
  });

  // Errors of htmx requests arrive as short text (see web/errors.go); show
  // them as a toast instead of failing silently.
  function toast(kind, text) {
    var area = document.getElementById("toasts");
    if (!area) return;
    var box = document.createElement("div");
    box.className = "flash flash-" + kind;
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "toast-" + kind);
    var span = document.createElement("span");
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss");
    close.setAttribute("data-dismiss", "");
    close.textContent = "×";
    box.appendChild(span);
    box.appendChild(close);
    area.appendChild(box);
  }
  window.plugboardToast = toast;

  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = (xhr && xhr.responseText) || "The request failed.";
    toast("error", text.length > 400 ? text.slice(0, 400) + "…" : text);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("error", "Plugboard can't be reached. Check that it is running and try again.");
  });
})();
