// Credential history: tidy the address htmx pushes as filters change.
// The page works without this file; it only keeps bookmarked URLs short.
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "history-filters") return;
    var params = event.detail.parameters;
    var drop = [];
    params.forEach(function (value, key) {
      // Empty filters and the default page size say nothing: leave them out of the URL.
      if (value === "" || (key === "per_page" && value === "25")) drop.push(key);
    });
    drop.forEach(function (key) { params.delete(key); });
  });
})();
