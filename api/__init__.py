"""The JSON API under ``/api/v1``: one Flask blueprint, registered by ``app.create_app``.

The guard in auth.py has signed the request in (a session, or an API key) before any route here
runs. This module adds what every API route shares: bodies only as ``application/json`` (so a form
on another site cannot post with the browser's cookie), and JSON answers for every error.
"""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from api import alerts, analytics, ingest, openapi
from api.wire import ApiError

PREFIX = "/api/v1"
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def create_blueprint() -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    bp.register_blueprint(alerts.bp)
    bp.register_blueprint(analytics.bp)
    bp.register_blueprint(ingest.bp)
    bp.register_blueprint(openapi.bp)

    @bp.before_request
    def require_json():
        # Cross-site forms can only send form or text bodies; application/json needs a CORS preflight
        # we never grant. So with this check the session cookie cannot be used to post from elsewhere.
        if request.method in _BODY_METHODS and request.mimetype != "application/json":
            return jsonify(error="send the body as JSON with Content-Type: application/json"), 415
        return None

    @bp.before_request
    def ingest_keys_only_push():
        # An ingest key sits in a charger or a meter gateway: it opens no fleet data if it leaks.
        if current_user.is_authenticated and current_user.role == "ingest" \
                and request.blueprint != "api.ingest":
            return jsonify(error="an ingest key may only push data (POST /api/v1/ingest/..., /api/v1/telemetry)"), 403
        return None

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return jsonify(exc.body()), exc.status

    return bp


def init(server: Flask) -> None:
    server.register_blueprint(create_blueprint())

    # Dash serves its page shell for any GET it does not know; under /api/ that is a JSON 404 instead.
    @server.get("/api/", defaults={"rest": ""})
    @server.get("/api/<path:rest>")
    def api_not_found(rest: str):
        return jsonify(error="no such API endpoint"), 404

    @server.errorhandler(HTTPException)
    def api_http_error(exc: HTTPException):
        # Routing errors (no such URL, wrong method) happen before any blueprint: answer JSON for the
        # API and leave every other path's error page as it was.
        if request.path.startswith("/api/"):
            response = jsonify(error=exc.description or exc.name)
            response.status_code = exc.code or 500
            if exc.code == 405 and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        return exc
