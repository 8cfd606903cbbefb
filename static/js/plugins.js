// Plugin pages: choosing or dropping a package uploads it (after checking
// its size against the server's limit), the install panel closes, and the
// uninstall confirmation opens as a <dialog>. Loaded by the plugin pages;
// no inline script (CSP).
(function () {
  "use strict";
  if (window.plugboardPlugins) return;
  window.plugboardPlugins = true;

  function units(n) {
    var u = ["bytes", "KiB", "MiB", "GiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1).replace(/\.0$/, "")) + " " + u[i];
  }

  // showError puts a refusal into the install panel, as the server would.
  function showError(name, message) {
    var panel = document.getElementById("install-panel");
    if (!panel) return;
    panel.innerHTML = "";
    var box = document.createElement("section");
    box.className = "card install-card install-error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "upload-error");
    var h = document.createElement("h2");
    h.textContent = "Can't install " + name;
    var p = document.createElement("p");
    p.setAttribute("data-testid", "upload-error-message");
    p.textContent = message;
    box.appendChild(h);
    box.appendChild(p);
    panel.appendChild(box);
  }

  // upload submits the upload form with the file in its input, unless the
  // file is over the limit the form states.
  function upload(form) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file) return;
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (max && file.size > max) {
      showError(file.name, "The package is " + units(file.size) + "; the limit is " + units(max) + ".");
      input.value = "";
      return;
    }
    form.requestSubmit();
  }

  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("#upload-form");
    if (form && e.target.type === "file") upload(form);
  });

  // A chosen file is forgotten once sent, so choosing it again uploads again.
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.target && e.target.id === "upload-form") {
      var input = e.target.querySelector("input[type=file]");
      if (input) input.value = "";
    }
  });

  // Drag and drop anywhere on a page with the upload form.
  var depth = 0;
  function overlay(show) {
    var o = document.querySelector(".drop-overlay");
    if (o) o.hidden = !show;
  }
  function carriesFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0 && !!document.getElementById("upload-form");
  }
  document.addEventListener("dragenter", function (e) {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth++;
    overlay(true);
  });
  document.addEventListener("dragover", function (e) {
    if (carriesFiles(e)) e.preventDefault();
  });
  document.addEventListener("dragleave", function (e) {
    if (!carriesFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay(false);
  });
  document.addEventListener("drop", function (e) {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth = 0;
    overlay(false);
    var form = document.getElementById("upload-form");
    var input = form.querySelector("input[type=file]");
    input.files = e.dataTransfer.files;
    upload(form);
  });

  document.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-close-panel], [data-open-dialog], [data-close-dialog]");
    if (!t) return;
    if (t.hasAttribute("data-close-panel")) {
      var panel = t.closest(".install-panel");
      if (panel && document.getElementById("upload-form")) {
        panel.innerHTML = "";
      } else if (t.closest(".task-list")) {
        t.closest(".install-card").remove();
      } else {
        window.location.href = "/";
      }
      return;
    }
    if (t.hasAttribute("data-open-dialog")) {
      var d = document.getElementById(t.getAttribute("data-open-dialog"));
      if (d && d.showModal) {
        e.preventDefault();
        d.showModal();
      }
      return;
    }
    var dlg = t.closest("dialog");
    if (dlg) {
      e.preventDefault();
      dlg.close();
    }
  });
})();
