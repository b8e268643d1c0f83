// Team settings > Users: progressive enhancements; every step works without this file.
(function () {
  "use strict";

  // The same test static/js/portal.js runs on input: has any field left its initial value?
  function isDirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      return el.value !== undefined && el.defaultValue !== undefined && el.type !== "hidden" && el.type !== "submit" && el.value !== el.defaultValue;
    });
  }

  // Save buttons are rendered enabled, so the form works without JavaScript; with it,
  // they stay disabled until something changed (portal.js re-enables them on input).
  function disableUntilDirty(root) {
    root.querySelectorAll("form[data-dirty-submit]").forEach(function (form) {
      var dirty = isDirty(form);
      form.querySelectorAll("[data-dirty-submit-button]").forEach(function (b) { b.disabled = !dirty; });
    });
  }

  // A fragment swapped into the editor panel: move focus to its heading for screen readers
  // and keyboard users.
  function focusEditor(target) {
    var heading = target.querySelector("[data-members-focus]");
    if (heading) heading.focus();
  }

  // Invalid input (400) and refused changes (409) come back as the form with its message,
  // which belongs in the panel rather than in the console.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if ((status === 400 || status === 409) && target && target.closest("[data-members-panel]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.matches("[data-members-panel]")) focusEditor(event.detail.target);
  });
  document.addEventListener("DOMContentLoaded", function () { disableUntilDirty(document); });
  document.addEventListener("htmx:load", function (event) { disableUntilDirty(event.target); });
  // Back/forward cache restores field values; recompute rather than trust the last state.
  window.addEventListener("pageshow", function () { disableUntilDirty(document); });
})();
