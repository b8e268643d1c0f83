// Team settings > Users: progressive enhancements; every step works without this file.
// (Save buttons that wait for a change are static/js/portal.js's data-dirty-submit; the
// panel's 422 and 409 answers are swapped in by base.html's htmx responseHandling.)
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

// Escape closes the editor panel that an Edit, Remove or Add member button opened on the
// list, and gives focus back to that button (or its row's replacement after a swap).
(function () {
  "use strict";

  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var elt = event.detail.elt;
    if (!target || !target.matches("[data-members-panel]") || !elt || target.contains(elt)) return;
    opener = { elt: elt, label: elt.getAttribute("aria-label"), href: elt.getAttribute("href") };
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || !opener) return;
    var panel = document.querySelector("[data-members-panel]");
    if (!panel || !panel.firstElementChild) return;
    var active = document.activeElement;
    if (active && active !== document.body && !panel.contains(active)) return;
    event.preventDefault();
    panel.innerHTML = "";
    var back = opener.elt.isConnected ? opener.elt : null;
    if (!back && opener.href) back = document.querySelector('a[href="' + CSS.escape(opener.href) + '"]');
    opener = null;
    if (back) back.focus();
  });
})();
