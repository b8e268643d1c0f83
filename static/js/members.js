// Team settings > Users: progressive enhancements; every step works without this file.
// (Save buttons that wait for a change are static/js/portal.js's data-dirty-submit.)
(function () {
  "use strict";

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
})();
