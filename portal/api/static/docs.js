// Starts Swagger UI on /api/docs. A file of its own: the CSP allows no inline script.
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    domNode: node,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge or request to the online validator: everything stays on this site.
    validatorUrl: null,
    tryItOutEnabled: true,
    persistAuthorization: false
  });
});
