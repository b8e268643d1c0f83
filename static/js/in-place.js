// Tables that update in place, menus that close on Escape, forms that submit once.
// Every page works without this file: links and forms keep their plain behaviour.
(function () {
  "use strict";

  // <div id="x" data-swap-in-place>: its pagination and sort links fetch the same page and
  // swap only #x (hx-select), keeping the scroll position. The links stay plain <a href>s.
  function swapInPlace(root) {
    var regions = [];
    if (root.matches && root.matches("[data-swap-in-place]")) regions.push(root);
    if (root.querySelectorAll) regions.push.apply(regions, root.querySelectorAll("[data-swap-in-place]"));
    regions.forEach(function (region) {
      if (!region.id || !window.htmx) return;
      region.querySelectorAll("nav[aria-label='Pagination'], thead").forEach(function (controls) {
        controls.setAttribute("hx-boost", "true");
        controls.setAttribute("hx-target", "#" + region.id);
        controls.setAttribute("hx-select", "#" + region.id);
        controls.setAttribute("hx-swap", "outerHTML show:none");
        htmx.process(controls);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { swapInPlace(document); });
  document.addEventListener("htmx:load", function (event) { swapInPlace(event.target); });

  // A link that replaces the content around it (a sort header, a page link) would leave focus
  // on <body>. Put it back on the same control in the new content: the same rel (next/prev),
  // else the same words in the same place, else the current page, else the region itself.
  var pending = null;

  function describe(link, region) {
    return {
      regionId: region.id,
      rel: link.getAttribute("rel"),
      text: link.textContent.trim(),
      place: link.closest("thead") ? "thead" : link.closest("nav") ? "nav" : "body"
    };
  }

  function equivalent(region, wanted) {
    var links = Array.prototype.slice.call(region.querySelectorAll("a[href]"));
    var inPlace = links.filter(function (link) {
      var place = link.closest("thead") ? "thead" : link.closest("nav") ? "nav" : "body";
      return place === wanted.place;
    });
    var found = null;
    if (wanted.rel) found = inPlace.filter(function (l) { return l.getAttribute("rel") === wanted.rel; })[0];
    if (!found) found = inPlace.filter(function (l) { return l.textContent.trim() === wanted.text; })[0];
    if (!found && wanted.place === "nav") found = region.querySelector("nav [aria-current='page']");
    if (!found) found = region;
    if (!found.matches("a[href], button, input, select, textarea")) found.setAttribute("tabindex", "-1");
    return found;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var target = event.detail.target;
    pending = null;
    if (elt && elt.tagName === "A" && target && target.id && target.contains(elt)) {
      pending = describe(elt, target);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!pending) return;
    var wanted = pending;
    pending = null;
    var region = document.getElementById(wanted.regionId);
    var active = document.activeElement;
    if (!region || (active && active !== document.body && active.isConnected)) return;
    equivalent(region, wanted).focus();
  });
  ["htmx:responseError", "htmx:sendError", "htmx:swapError"].forEach(function (name) {
    document.addEventListener(name, function () { pending = null; });
  });

  // Escape closes the open user menu (and the history's Columns picker) and gives focus
  // back to its summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.user-menu[open], details.column-picker[open]").forEach(function (menu) {
      var hadFocus = menu.contains(document.activeElement);
      menu.open = false;
      if (hadFocus) menu.querySelector("summary").focus();
    });
  });

  // <form data-submit-once> posted without htmx (htmx forms use hx-disabled-elt): a second
  // click while the first submission is on its way would repeat a destructive action.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-submit-once]") || event.defaultPrevented) return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // Coming back with the Back button shows the page as it was left: enable the form again,
  // and give each create form a new key, or its next submit would count as the one already
  // made (credentials.views.once) and open that credential instead of making another.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("input[name=create_key]").forEach(function (input) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      input.value = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    });
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });
})();
