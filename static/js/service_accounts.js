// Service accounts: let htmx show validation errors in place.
// htmx does not swap 4xx responses by default; a display-name form answers 400 (invalid
// input) or 409 (account deleted meanwhile) with the form and its message, which belong
// on the page rather than in the console. Without JavaScript the same form posts normally.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ((status === 400 || status === 409) && source && source.closest("[data-sa-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
