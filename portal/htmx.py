"""The only HTMX glue: detecting partial requests and answering them."""

from flask import g, make_response, render_template, request

# Set when a request asked whether it came from HTMX: its answer then depends on that,
# and says so with Vary: HX-Request (see web.init_app).
ASKED = "portal_asked_htmx"


def is_htmx():
    """True for an HTMX request that wants a fragment, not a boosted or restored page."""
    setattr(g, ASKED, True)
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_partial(page, partial, status=200, *, flashes=False, **context):
    """One URL, two renderings: the partial for HTMX, else the whole page. With `flashes`
    the flash messages ride along the partial, swapped out of band into their region."""
    if not is_htmx():
        return partial_response(render_template(page, **context), status)
    body = render_template(partial, **context)
    if flashes:
        body += render_template("_flashes.html", oob=True)
    return partial_response(body, status)


def partial_response(body, status=200):
    """A response whose body depends on whether HTMX asked (caches must keep both)."""
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location):
    """Navigate after a success: HX-Redirect for HTMX, 303 otherwise."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", 303)
    response.headers["Location"] = location
    return response
