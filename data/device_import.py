"""Bulk import of device mappings from CSV or XLSX, shared by the devices page and
``flask --app app devices import FILE [--dry-run]`` so both report the same rows the same way.

Every row is judged on its own (``device_admin.check_mapping``, plus duplicates inside the file):
valid rows are applied, each invalid row is reported with its line number and reason, one bad row
never blocks the others. An optional column the file leaves out keeps what is stored; an empty cell
clears it. A row equal to what is stored is "unchanged", so importing the same file
twice changes nothing the second time. A dry run judges every row and writes nothing.
"""
from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import sqlalchemy as sa

from data import audit, device_admin, imports
from data.db import Database, text
from data.device_admin import Mapping
from data.imports import ImportFileError, ImportResult, RowResult, cell as _cell
from data.scope import Scope

REQUIRED = ("device_id", "battery_serial", "vehicle_number", "dealer_code")
OPTIONAL = ("battery_model", "customer_name", "customer_phone", "city", "site_code", "active")
COLUMNS = REQUIRED + OPTIONAL
KEPT_WHEN_ABSENT = ("customer_name", "customer_phone", "city")
TEMPLATE_ROWS = [
    {"device_id": "TK-51100-9001", "battery_serial": "ITB26009001", "vehicle_number": "UP32AB1234",
     "dealer_code": "LKO01", "battery_model": "LFP-51V105-A", "customer_name": "Ramesh Kumar",
     "customer_phone": "+91 98765 43210", "city": "Lucknow", "site_code": "LKO01-HUB", "active": "yes"},
]


def template_csv() -> str:
    return imports.template_csv(TEMPLATE_ROWS, COLUMNS)


def read_file(name: str, data: bytes, max_bytes: int) -> pd.DataFrame:
    """The rows of a CSV or XLSX file as text; ImportFileError for a file that cannot be imported."""
    return imports.read_table(name, data, max_bytes, REQUIRED, COLUMNS)


def _stored(db: Database, device_id: str) -> dict | None:
    return db.one("""SELECT d.battery_serial, d.vehicle_number, dl.code AS dealer_code, d.customer_name,
                            d.customer_phone, d.city, st.code AS site_code, d.is_active
                     FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id LEFT JOIN sites st ON st.id = d.site_id
                     WHERE d.device_id = :id""",
                  id=device_id)


def run(db: Database, scope: Scope, frame: pd.DataFrame, *, dry_run: bool) -> ImportResult:
    """Judge every row; unless ``dry_run``, apply the valid ones (each in its own transaction)."""
    if not device_admin.may_edit(scope):
        raise ImportFileError("Only engineers and admins import devices.")
    result = ImportResult(dry_run=dry_run)
    seen: dict[str, dict[str, int]] = {"device_id": {}, "battery_serial": {}, "vehicle_number": {}}
    present = set(frame.columns)
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        device_id = _cell(row, "device_id") or ""
        dealer_code = (_cell(row, "dealer_code") or "").upper() or None
        stored = _stored(db, device_id) if device_id else None
        kept = stored or {}
        # A file without a site_code column (made before sites existed) keeps each device's site,
        # unless it moves the device to another dealer, among whose sites the old one is not.
        site_code = ((_cell(row, "site_code") or "").upper() or None) if "site_code" in present \
            else kept.get("site_code") if kept.get("dealer_code") == dealer_code else None
        m = Mapping(battery_serial=_cell(row, "battery_serial"),
                    vehicle_number=device_admin.vehicle_key(_cell(row, "vehicle_number")),
                    dealer_code=dealer_code, site_code=site_code,
                    **{name: _cell(row, name) if name in present else kept.get(name) for name in KEPT_WHEN_ABSENT})
        errors = []
        if not device_id:
            errors.append("device_id is empty")
        elif not device_admin.DEVICE_ID.match(device_id):
            errors.append(f"device_id {device_id!r} is malformed")
        for key, value in (("device_id", device_id), ("battery_serial", m.battery_serial),
                           ("vehicle_number", m.vehicle_number)):
            if value and value in seen[key]:
                errors.append(f"duplicate {key} {value} (also on line {seen[key][value]})")
            elif value:
                seen[key][value] = line
        active = imports.yes_no(_cell(row, "active"))
        if active == "bad":
            errors.append("active must be yes or no")
        if device_id and not errors:
            problems = device_admin.check_mapping(db, device_id, m, new_serial_model=_cell(row, "battery_model"))
            errors += list(problems.values())
        if errors:
            result.rows.append(RowResult(line, device_id, "error", imports.reasons(errors)))
            continue
        wanted = asdict(m)
        if stored is not None:
            now = {k: stored[k] for k in wanted}
            before, after = audit.changed(now, wanted)
            if active is not None and stored["is_active"] != active:
                before["active"], after["active"] = stored["is_active"], active
            if not after:
                result.rows.append(RowResult(line, device_id, "unchanged"))
                continue
            status, message = "changed", ", ".join(f"{k}: {before[k] or '—'} → {after[k] or '—'}" for k in after)
        else:
            status, message, before, after = "new", "", None, dict(wanted, active=active is not False)
        if not dry_run:
            try:
                _apply(db, scope, device_id, m, _cell(row, "battery_model"), active, stored is None, before, after)
            except sa.exc.IntegrityError:
                result.rows.append(RowResult(line, device_id, "error", "another change took this device, battery "
                                                                       "or vehicle meanwhile: import the row again"))
                continue
        result.rows.append(RowResult(line, device_id, status, message))
    return result


def _apply(db: Database, scope: Scope, device_id: str, m: Mapping, model: str | None, active: bool | None,
           new: bool, before: dict | None, after: dict) -> None:
    with db.transaction() as conn:
        if model and not conn.execute(text("SELECT 1 FROM batteries WHERE serial = :s"),
                                      {"s": m.battery_serial}).scalar():
            conn.execute(text("""INSERT INTO batteries (serial, model, capacity_ah, warranty_months, warranty_cycles,
                                                    dealer_id)
                                 SELECT :s, m.model, m.rated_capacity_ah, m.warranty_months, m.warranty_cycles,
                                        (SELECT id FROM dealers WHERE code = :dealer)
                                 FROM battery_models m WHERE m.model = :model"""),
                         {"s": m.battery_serial, "model": model, "dealer": m.dealer_code})
        if new:
            conn.execute(text("""INSERT INTO devices (device_id, is_active) VALUES (:id, :a)"""),
                         {"id": device_id, "a": active is not False})
        device_admin.write_mapping(conn, device_id, m)
        if not new and active is not None:
            conn.execute(text("UPDATE devices SET is_active = :a WHERE device_id = :id"), {"a": active, "id": device_id})
        audit.record(conn, scope, "device.import_new" if new else "device.import_change", "device", device_id,
                     before, after)
