// When an HTMX request fails, say so where the person is looking.
//
// htmx swaps nothing when the server answers an error (see "responseHandling" in
// base.html) or when the network drops the request, so without this a failed "Book"
// would show nothing at all. The message goes into the form that sent the request (or
// the region it was to fill) as an alert, so screen readers announce it; the form is
// left as it is, so what the person typed is kept. The texts come translated from the
// page (#request-failure-texts).
(function () {
  "use strict";

  function text(name) {
    var texts = document.getElementById("request-failure-texts");
    return texts ? texts.getAttribute("data-" + name) || "" : "";
  }

  function kindOf(status) {
    if (!status) return "network";
    if (status === 429) return "limited";
    if (status === 502 || status === 503 || status === 504) return "unavailable";
    if (status >= 500) return "server";
    return "refused";
  }

  function placeFor(detail) {
    var source = detail.elt;
    var form = source && source.closest ? source.closest("form") : null;
    if (form) return { where: form, typed: true };
    var target = detail.target;
    if (target && target.isConnected) return { where: target, typed: false };
    return { where: document.getElementById("main"), typed: false };
  }

  function clear(detail) {
    var place = placeFor(detail);
    if (!place.where) return;
    place.where.querySelectorAll(":scope > .request-failure").forEach(function (old) {
      old.remove();
    });
  }

  function show(detail, status) {
    var place = placeFor(detail);
    if (!place.where) return;
    clear(detail);
    var message = document.createElement("p");
    message.className = "request-failure";
    message.setAttribute("role", "alert");
    message.textContent =
      text(kindOf(status)) + (place.typed ? " " + text("kept") : "");
    place.where.prepend(message);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clear(event.detail);
  });
  document.addEventListener("htmx:responseError", function (event) {
    show(event.detail, event.detail.xhr ? event.detail.xhr.status : 0);
  });
  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail, 0);
  });
  document.addEventListener("htmx:timeout", function (event) {
    show(event.detail, 0);
  });
})();

/* Clinic Portal: small enhancements over pages that work without them.
   - The site menu is pinned open on wide screens (a toggle on phones).
   - After an HTMX swap, htmx focuses the new content's [autofocus] element; the polite
     live region #live-status then says what changed (the [data-announce] text).
   - The day strip scrolls the chosen day into view.
   - A page with a form sent back with errors focuses the first wrong field. */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 64rem)");

  function pinMenu() {
    document.querySelectorAll("details.site-menu").forEach(function (menu) {
      menu.classList.toggle("pinned", wide.matches);
      menu.open = wide.matches;
    });
  }

  function showChosenDay(root) {
    (root || document).querySelectorAll(".day-strip").forEach(function (strip) {
      var chosen = strip.querySelector("[aria-current]");
      if (chosen && strip.scrollWidth > strip.clientWidth) {
        var left = chosen.offsetLeft - strip.offsetLeft;
        strip.scrollLeft = left - (strip.clientWidth - chosen.offsetWidth) / 2;
      }
    });
  }

  function announce(root) {
    var region = document.getElementById("live-status");
    var source = root && root.querySelector ? root.querySelector("[data-announce]") : null;
    if (!region || !source) {
      return;
    }
    var text = source.getAttribute("data-announce") || source.textContent;
    // Emptied first, so the same words said twice are heard twice.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text.replace(/\s+/g, " ").trim();
    }, 50);
  }

  document.addEventListener("DOMContentLoaded", function () {
    pinMenu();
    if (wide.addEventListener) {
      wide.addEventListener("change", pinMenu);
    }
    showChosenDay(document);
    // A form sent back with errors: the first wrong field takes the focus, unless the
    // page already put it somewhere (autofocus).
    var invalid = document.querySelector("main [aria-invalid=true]");
    if (invalid && (document.activeElement === document.body || !document.activeElement)) {
      invalid.focus();
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt;
    // An outerHTML swap leaves the old element detached: look the new one up by id.
    if (target && !target.isConnected && target.id) {
      target = document.getElementById(target.id);
    }
    showChosenDay(document);
    announce(target && target.isConnected ? target : document);
  });
})();
