"""Defences every response and every Dash request goes through, whoever is signed in.

- Dash's callback endpoint only accepts a body shaped like a callback the app has: the right
  output key, and the inputs and states that callback declares, in order. A body that is not gets a
  400, never a 500 from inside Dash.
- The page router is Dash's own callback, so its inputs (pathname, search) are cleaned here, with
  the same helpers every page callback uses (``inputs``).
- Security headers on every response: a Content-Security-Policy that allows only our own scripts
  (plus hashes of Dash's few inline ones), our own connections, and the map tiles' host.
- Values the database refuses (``InvalidQueryInput``) are a 400, and anything else unexpected is a
  plain 500 without a traceback in front of the user.
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

from dash import Dash
from dash import _callback as dash_callback
from flask import Flask, Response, jsonify, request

import config
import inputs
from data.db import InvalidQueryInput

log = logging.getLogger(__name__)

DASH_UPDATE = "/_dash-update-component"
PAGE_ROUTER_INPUTS = {("_pages_location", "pathname"): inputs.page_path,
                      ("_pages_location", "search"): inputs.page_search}


class BadCallbackBody(Exception):
    """The body of a Dash callback request does not match any callback of the app."""


def _check_items(sent, declared: list[dict], what: str) -> None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise BadCallbackBody(f"{what}: expected {len(declared)} items")
    for item, spec in zip(sent, declared):
        if not isinstance(item, dict) or item.get("id") != spec["id"] or item.get("property") != spec["property"]:
            raise BadCallbackBody(f"{what}: does not match the callback")


def check_callback_body(app: Dash, body) -> None:
    """Raise BadCallbackBody unless ``body`` names a callback of ``app`` with its own inputs and states;
    clean the page router's inputs in place (Dash reads the same parsed body after us)."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise BadCallbackBody("not a callback request")
    spec = app.callback_map.get(body["output"])
    if spec is None or "callback" not in spec:
        raise BadCallbackBody("unknown callback")
    _check_items(body.get("inputs"), spec["inputs"], "inputs")
    _check_items(body.get("state", []), spec.get("state", []), "state")
    if not isinstance(body.get("outputs"), (dict, list)):
        raise BadCallbackBody("outputs missing")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallbackBody("changedPropIds must be a list of strings")
    for item in body["inputs"]:
        clean = PAGE_ROUTER_INPUTS.get((item["id"], item["property"]))
        if clean:
            item["value"] = clean(item.get("value"))


def _tile_source(tile_url: str) -> str:
    """The CSP source for the map tiles: ``https://{s}.tiles.example/{z}/..`` allows ``https://*.tiles.example``."""
    parsed = urlparse(tile_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return ""
    host = parsed.netloc.replace("{s}", "*")
    if "{" in host:  # another template part in the host: allow its registrable tail only
        host = "*." + host.split("}", 1)[-1].lstrip(".-")
    return f"{parsed.scheme}://{host}"


def content_security_policy(settings: config.Settings, script_hashes: list[str]) -> str:
    tiles = _tile_source(settings.map_tile_url)
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        # Plotly and Leaflet set inline styles and inject <style> elements at run time.
        "style-src": "'self' 'unsafe-inline'",
        "img-src": " ".join(filter(None, ["'self'", "data:", "blob:", tiles])),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": settings.frame_ancestors,
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def init(app: Dash, settings: config.Settings) -> None:
    server: Flask = app.server
    cached = {"key": None, "hashes": []}

    def script_hashes() -> list[str]:
        # Dash adds the page router's inline script on the first request: hash again when they change.
        key = (len(app._inline_scripts), len(dash_callback.GLOBAL_INLINE_SCRIPTS))
        if key != cached["key"]:
            cached["hashes"] = app.csp_hashes()
            cached["key"] = (len(app._inline_scripts), len(dash_callback.GLOBAL_INLINE_SCRIPTS))
        return cached["hashes"]

    @server.before_request
    def check_dash_body():
        if request.path != DASH_UPDATE or request.method != "POST":
            return None
        try:
            check_callback_body(app, request.get_json(silent=True))
        except BadCallbackBody as exc:
            return jsonify(error=f"bad callback request: {exc}"), 400
        return None

    @server.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(settings, script_hashes()))
        legacy = {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(settings.frame_ancestors)
        if legacy:  # older browsers; a list of origins can only be said in the CSP
            headers.setdefault("X-Frame-Options", legacy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if settings.cookie_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @server.errorhandler(InvalidQueryInput)
    def invalid_input(exc):
        log.warning("refused input: %s", exc)
        return jsonify(error="The request held a value that cannot be used."), 400

    @server.errorhandler(500)
    def server_error(exc):
        # Flask has logged the traceback; the user gets one line.
        return Response("Something went wrong on the server; it has been logged.", 500, mimetype="text/plain")
