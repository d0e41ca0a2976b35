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
