// The model credential forms: a field with data-show-on (a JSON list of
// {name, value} conditions on other inputs of its form) shows only while
// every condition holds, as Dify's show_on. The server renders the first
// state and checks it again on submit (a hidden field is neither required
// nor saved); this only keeps the page current as the user changes values.
(function () {
  "use strict";

  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "checkbox") return el.checked ? "true" : "false";
      if (el.type === "radio") { if (el.checked) return el.value; continue; }
      return el.value;
    }
    return "";
  }

  function update(form) {
    form.querySelectorAll("[data-show-on]").forEach(function (field) {
      var conds;
      try { conds = JSON.parse(field.getAttribute("data-show-on")); } catch (e) { return; }
      var shown = conds.every(function (c) { return valueOf(form, c.name) === c.value; });
      field.hidden = !shown;
    });
  }

  function init() {
    document.querySelectorAll("form[data-show-on-form]").forEach(function (form) {
      form.addEventListener("change", function () { update(form); });
      form.addEventListener("input", function () { update(form); });
      update(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
