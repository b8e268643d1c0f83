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

  // htmx leaves 4xx answers unswapped, which would hide the message of a form it posted.
  // Forms marked data-swap-errors get their 400 (invalid input) or 409 (refused: limit
  // reached, already deactivated or deleted) answer swapped in like a success.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ((status === 400 || status === 409) && source && source.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    enableCopyButtons(document);
    disableUntilDirty(document);
  });
  document.addEventListener("htmx:load", function (event) {
    enableCopyButtons(event.target);
    disableUntilDirty(event.target);
  });
  // Back/forward cache restores field values; recompute rather than trust the last state.
  window.addEventListener("pageshow", function () { disableUntilDirty(document); });
})();
