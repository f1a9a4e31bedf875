"""File downloads under ``/download``: claim evidence packs, fleet health reports, the device, site and
equipment import templates.

The guard in auth.py has already turned anonymous requests away; every route here still takes the
user's scope from the server and hands it to the data layer, so a battery or report outside the
scope answers 404, exactly like one that does not exist. Only GET: nothing here changes data that
a user could be tricked into changing (the one write, a generated pack kept for audit, is what
the user asked for).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import Blueprint, Flask, Response, abort
from flask_login import current_user

from auth import current_scope
from data import device_import, health_reports, report_inputs, site_import, warranty
from data.db import get_db
from ingest import report_jobs
from reports.evidence import evidence_pack_pdf

PREFIX = "/download"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DEVICE = re.compile(r"^[A-Za-z0-9._-]{1,50}$")


def _file(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _who() -> str:
    return getattr(current_user, "username", None) or current_scope().actor or "unknown"


def create_blueprint() -> Blueprint:
    bp = Blueprint("downloads", __name__, url_prefix=PREFIX)

    @bp.route("/evidence/<device_id>.pdf")
    def evidence(device_id: str):
        """A fresh claim evidence pack for one battery, kept in the claim-pack list."""
        scope = current_scope()
        if not _DEVICE.match(device_id):
            abort(404)
        db = get_db()
        pack = report_inputs.evidence_pack(db, scope, device_id, _who())
        if pack is None:
            abort(404)
        pdf = evidence_pack_pdf(pack)
        if scope.role != "viewer":   # the wall display changes nothing, not even the pack list
            warranty.save_claim(db, device_id, pack.battery_serial, pack.reason, pack.soh_now, pdf, scope.user_id,
                                automatic=False)
        return _file(pdf, PDF, f"evidence-{pack.battery_serial}-{pack.generated_at:%Y%m%d}.pdf")

    @bp.route("/claim/<int:pack_id>.pdf")
    def claim(pack_id: int):
        row = warranty.claim_pdf(get_db(), current_scope(), pack_id)
        if row is None:
            abort(404)
        return _file(bytes(row["pdf"]), PDF, f"evidence-{row['battery_serial']}-{row['created_at']:%Y%m%d}-{row['id']}.pdf")

    @bp.route("/health-report.<kind>")
    def health_report(kind: str):
        """The fleet health report of the user's scope, made now."""
        if kind not in ("pdf", "xlsx"):
            abort(404)
        scope = current_scope()
        db = get_db()
        label = "Whole fleet" if scope.whole_fleet else (db.scalar("SELECT name FROM dealers WHERE id = :id",
                                                                   id=scope.dealer_id) or "Your batteries")
        _, pdf, xlsx = report_jobs.build_fleet_report(db, scope, label, datetime.now(timezone.utc))
        stamp = datetime.now(timezone.utc).astimezone(report_jobs.IST)
        return _file(pdf if kind == "pdf" else xlsx, PDF if kind == "pdf" else XLSX,
                     f"fleet-health-{stamp:%Y%m%d-%H%M}.{kind}")

    @bp.route("/devices-template.csv")
    def devices_template():
        # No data in it, only the columns and an example row: every signed-in user may have it.
        current_scope()
        return _file(device_import.template_csv().encode("utf-8"), "text/csv", "device-import-template.csv")

    @bp.route("/sites-template.csv")
    def sites_template():
        current_scope()
        return _file(site_import.template_csv("sites").encode("utf-8"), "text/csv", "site-import-template.csv")

    @bp.route("/equipment-template.csv")
    def equipment_template():
        current_scope()
        return _file(site_import.template_csv("equipment").encode("utf-8"), "text/csv", "equipment-import-template.csv")

    @bp.route("/report/<int:report_id>.<kind>")
    def past_report(report_id: int, kind: str):
        if kind not in ("pdf", "xlsx"):
            abort(404)
        row = health_reports.report_file(get_db(), current_scope(), report_id, kind)
        if row is None:
            abort(404)
        return _file(bytes(row["body"]), PDF if kind == "pdf" else XLSX, f"fleet-health-{row['as_of']:%Y%m%d}-{row['id']}.{kind}")

    return bp


def init(server: Flask) -> None:
    server.register_blueprint(create_blueprint())
