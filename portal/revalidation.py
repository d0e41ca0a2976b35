"""Answers a browser or an API client may ask again with If-None-Match, and get 304.

A page that shows free times knows, before it renders anything, everything its answer
depends on: the key it keeps its work under (the doctor's schedule version read in this
request, the booking rules, the days asked, today, the bookable run of slots, the
language). Its ETag is a digest of that key, so a new version, day, language or clock
step gives a new tag, and a client holding the tag of the same key holds the same
answer. The code and its templates and translations are in the digest too, so a new
release never confirms an answer the old one gave.
"""

import hashlib
import os

from flask import current_app, request

FINGERPRINT = "portal.release_fingerprint"
_RELEASE_FILES = (".py", ".html", ".po", ".mo")


def init_app(app, roots):
    """Digest the release (the files under `roots`) once per process."""
    digest = hashlib.blake2b(digest_size=16)
    for root in roots:
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
            for name in sorted(files):
                if name.endswith(_RELEASE_FILES):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, root).encode())
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    app.extensions[FINGERPRINT] = digest.hexdigest()


def etag_for(kind, key):
    """The ETag of an answer of this kind fixed by `key` (plain values, same repr in
    every worker)."""
    text = repr((current_app.extensions[FINGERPRINT], kind, key))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def unchanged(etag):
    """Whether the client already holds the answer with this tag."""
    return request.if_none_match.contains_weak(etag)


def tagged(response, etag, vary=()):
    """The response with its tag; clients keep it but ask again before each use."""
    response.set_etag(etag)
    response.cache_control.no_cache = True
    for header in vary:
        response.vary.add(header)
    return response


def not_modified(etag, vary=()):
    """304: the client's copy is the answer; the headers a 200 would carry, no body."""
    return tagged(current_app.response_class(status=304), etag, vary)
