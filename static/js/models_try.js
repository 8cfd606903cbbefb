// The model tryouts: where a field belongs to one model (the TTS voices),
// only the picked model's shows and is sent.
(function () {
  "use strict";
  document.querySelectorAll("[data-try-form]").forEach(function (form) {
    var model = form.querySelector('select[name="model"]');
    if (!model) return;
    function follow() {
      form.querySelectorAll("[data-try-for]").forEach(function (f) {
        var on = f.getAttribute("data-try-for") === model.value;
        f.hidden = !on;
        f.querySelectorAll("select, input, textarea").forEach(function (c) { c.disabled = !on; });
      });
    }
    model.addEventListener("change", follow);
    follow();
  });
})();
