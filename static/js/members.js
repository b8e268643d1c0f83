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

// Escape, or Cancel in the panel, closes the editor panel that an Edit, Remove or Add member
// button opened on the list, and gives focus back to that button (or its row's replacement
// after a swap). Without this file Cancel is a link back to the list, and still works.
(function () {
  "use strict";

  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var elt = event.detail.elt;
    if (!target || !target.matches("[data-members-panel]") || !elt || target.contains(elt)) return;
    opener = { elt: elt, label: elt.getAttribute("aria-label"), href: elt.getAttribute("href") };
  });

  function closeEditor(panel) {
    panel.innerHTML = "";
    var back = opener && opener.elt.isConnected ? opener.elt : null;
    if (!back && opener && opener.href) back = document.querySelector('a[href="' + CSS.escape(opener.href) + '"]');
    opener = null;
    if (back) back.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || !opener) return;
    var panel = document.querySelector("[data-members-panel]");
    if (!panel || !panel.firstElementChild) return;
    var active = document.activeElement;
    if (active && active !== document.body && !panel.contains(active)) return;
    event.preventDefault();
    closeEditor(panel);
  });

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-editor-cancel]");
    var panel = cancel && cancel.closest("[data-members-panel]");
    if (!panel || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    closeEditor(panel);
  });
})();
