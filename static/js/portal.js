// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy-target="#id">. Hidden until JavaScript can use them.
  function enableCopyButtons(root) {
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return;
    var text = (target.value !== undefined ? target.value : target.textContent).trim();
    var status = button.parentElement.querySelector(".copy-status");
    function done(message) {
      if (status) {
        status.textContent = message;
        setTimeout(function () { status.textContent = ""; }, 2500);
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, function () { done("Select and copy by hand"); });
    } else {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); done("Copied"); } catch (e) { done("Select and copy by hand"); }
    }
  });

  // Forms whose submit stays disabled until a field changes: <form data-dirty-submit>.
  // The buttons are rendered enabled, so the form works without JavaScript.
  function isDirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      return el.value !== undefined && el.defaultValue !== undefined && el.type !== "hidden" && el.type !== "submit" && el.value !== el.defaultValue;
    });
  }

  function setDirtySubmit(form) {
    var dirty = isDirty(form);
    form.querySelectorAll("[data-dirty-submit-button]").forEach(function (b) { b.disabled = !dirty; });
  }

  function disableUntilDirty(root) {
    root.querySelectorAll("form[data-dirty-submit]").forEach(setDirtySubmit);
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-dirty-submit]");
    if (form) setDirtySubmit(form);
  });

  // A form answered with errors: put the cursor in the first field that needs fixing,
  // whether the answer was a whole page or a fragment htmx swapped in.
  function focusFirstInvalid(root) {
    var active = document.activeElement;
    if (active && active.isConnected && active.matches('[aria-invalid="true"]')) return;
    var field = root.matches && root.matches('[aria-invalid="true"]') ? root : root.querySelector('[aria-invalid="true"]');
    if (field) field.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    focusFirstInvalid(event.target);
  });

  // An answer that sends the browser on (HX-Refresh, HX-Redirect, HX-Location) is followed
  // by htmx; django-htmx's debug script (DEBUG only) must not paint its body over the
  // page first. Capturing on window runs before that script's listener on document.
  window.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.getResponseHeader("HX-Refresh") === "true" || xhr.getResponseHeader("HX-Redirect") || xhr.getResponseHeader("HX-Location")) {
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    enableCopyButtons(document);
    disableUntilDirty(document);
    focusFirstInvalid(document);
  });
  document.addEventListener("htmx:load", function (event) {
    enableCopyButtons(event.target);
    disableUntilDirty(event.target);
  });
  // Back/forward cache restores field values; recompute rather than trust the last state.
  window.addEventListener("pageshow", function () { disableUntilDirty(document); });
})();
