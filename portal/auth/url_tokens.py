"""One-time links (account activation, password reset) whose secret must not stay in
the address bar, the browser history, a Referer header or the server's access logs.

The first open of a link moves its token into the session and redirects to a clean
address; the page there reads the token from the session. The token itself is still
checked by the service on every use, so the session only carries it, never vouches
for it.
"""

from flask import redirect, session

_KEY = "link_token:"


def exchange(purpose, token, *, clean_url):
    """Keep the link's token in the session and send the browser on to `clean_url`."""
    session[_KEY + purpose] = token
    response = redirect(clean_url, 303)
    response.headers["Cache-Control"] = "no-store"
    return response


def held(purpose):
    """The token the browser brought for `purpose` with its link, or None."""
    token = session.get(_KEY + purpose)
    return token if isinstance(token, str) else None


def forget(purpose):
    """Drop the token once it is spent or refused."""
    session.pop(_KEY + purpose, None)
