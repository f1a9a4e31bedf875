"""Bulk import of device mappings from CSV or XLSX, shared by the devices page and
``flask --app app devices import FILE [--dry-run]`` so both report the same rows the same way.

Every row is judged on its own (``device_admin.check_mapping``, plus duplicates inside the file):
valid rows are applied, each invalid row is reported with its line number and reason, one bad row
never blocks the others. A row equal to what is stored is "unchanged", so importing the same file
twice changes nothing the second time. A dry run judges every row and writes nothing.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field

import pandas as pd
import sqlalchemy as sa

from data import audit, device_admin
from data.db import Database, text
from data.device_admin import Mapping
from data.scope import Scope

REQUIRED = ("device_id", "battery_serial", "vehicle_number", "dealer_code")
OPTIONAL = ("battery_model", "customer_name", "customer_phone", "city", "active")
COLUMNS = REQUIRED + OPTIONAL
TEMPLATE_ROWS = [
    {"device_id": "TK-51100-9001", "battery_serial": "ITB26009001", "vehicle_number": "UP32AB1234",
     "dealer_code": "LKO01", "battery_model": "LFP-51V105-A", "customer_name": "Ramesh Kumar",
     "customer_phone": "+91 98765 43210", "city": "Lucknow", "active": "yes"},
]
TRUE_WORDS, FALSE_WORDS = ("yes", "y", "true", "1", "active"), ("no", "n", "false", "0", "inactive")


class ImportFileError(ValueError):
    """The file as a whole cannot be read: one message, nothing changed."""


@dataclass
class RowResult:
    line: int              # the line in the file (the header is line 1)
    device_id: str
    status: str            # new, changed, unchanged, error
    message: str = ""


@dataclass
class ImportResult:
    rows: list[RowResult] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "changed": 0, "unchanged": 0, "error": 0}
        for r in self.rows:
            out[r.status] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        verb = "would be" if self.dry_run else "were"
        return (f"{len(self.rows)} rows: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged "
                f"({'nothing written: a dry run' if self.dry_run else 'applied'}); {c['error']} {verb} refused.")


def size_words(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def template_csv() -> str:
    return pd.DataFrame(TEMPLATE_ROWS, columns=list(COLUMNS)).to_csv(index=False)


def read_file(name: str, data: bytes, max_bytes: int) -> pd.DataFrame:
    """The rows of a CSV or XLSX file as text; ImportFileError for a file that cannot be imported."""
    if not data:
        raise ImportFileError("The file is empty.")
    if len(data) > max_bytes:
        raise ImportFileError(f"The file is {size_words(len(data))}; at most {size_words(max_bytes)} is accepted "
                              "(IMPORT_MAX_BYTES).")
    lower = (name or "").lower()
    try:
        if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
            frame = pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
        elif lower.endswith(".csv") or lower.endswith(".txt") or not lower:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise ImportFileError(f"{name!r} is neither CSV nor XLSX.")
    except ImportFileError:
        raise
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text: save it as CSV UTF-8 or as XLSX.") from None
    except Exception as exc:  # pandas and openpyxl raise many kinds for a file that is not what it says
        raise ImportFileError(f"The file could not be read as CSV or XLSX ({type(exc).__name__}).") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ImportFileError(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                              f"The columns are {', '.join(COLUMNS)} (download the template).")
    frame = frame.fillna("")
    if frame.empty:
        raise ImportFileError("The file has a header but no rows.")
    return frame


def _cell(row: dict, name: str) -> str | None:
    value = str(row.get(name, "") or "").strip()
    return value or None


def _active(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.lower()
    return True if v in TRUE_WORDS else False if v in FALSE_WORDS else "bad"  # type: ignore[return-value]


def _stored(db: Database, device_id: str) -> dict | None:
    return db.one("""SELECT d.battery_serial, d.vehicle_number, dl.code AS dealer_code, d.customer_name,
                            d.customer_phone, d.city, d.is_active
                     FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id WHERE d.device_id = :id""",
                  id=device_id)


def run(db: Database, scope: Scope, frame: pd.DataFrame, *, dry_run: bool) -> ImportResult:
    """Judge every row; unless ``dry_run``, apply the valid ones (each in its own transaction)."""
    if not device_admin.may_edit(scope):
        raise ImportFileError("Only engineers and admins import devices.")
    result = ImportResult(dry_run=dry_run)
    seen: dict[str, dict[str, int]] = {"device_id": {}, "battery_serial": {}, "vehicle_number": {}}
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        device_id = _cell(row, "device_id") or ""
        m = Mapping(battery_serial=_cell(row, "battery_serial"),
                    vehicle_number=device_admin.vehicle_key(_cell(row, "vehicle_number")),
                    dealer_code=(_cell(row, "dealer_code") or "").upper() or None,
                    customer_name=_cell(row, "customer_name"), customer_phone=_cell(row, "customer_phone"),
                    city=_cell(row, "city"))
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
        active = _active(_cell(row, "active"))
        if active == "bad":
            errors.append("active must be yes or no")
        if device_id and not errors:
            problems = device_admin.check_mapping(db, device_id, m, new_serial_model=_cell(row, "battery_model"))
            errors += list(problems.values())
        if errors:
            result.rows.append(RowResult(line, device_id, "error", "; ".join(errors)))
            continue
        stored = _stored(db, device_id)
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
