// Team settings > Users: progressive enhancements; every step works without this file.
// (Save buttons that wait for a change, and the 400/409 answers of the panel's forms, are
// static/js/portal.js's data-dirty-submit and data-swap-errors.)
(function () {
  "use strict";

  // A fragment swapped into the editor panel: move focus to its heading for screen readers
  // and keyboard users.
  function focusEditor(target) {
    var heading = target.querySelector("[data-members-focus]");
    if (heading) heading.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.matches("[data-members-panel]")) focusEditor(event.detail.target);
  });
})();
