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
