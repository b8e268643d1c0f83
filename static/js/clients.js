// Credential forms posted by htmx: show the server's answer when it refuses (400 invalid
// input, 409 limit reached or already deactivated). htmx leaves 4xx responses unswapped by
// default, which would hide the message; only forms marked data-swap-errors opt in.
(function () {
  "use strict";
  if (window.tangoSwapErrors) return;
  window.tangoSwapErrors = true;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ((status === 400 || status === 409) && source && source.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
