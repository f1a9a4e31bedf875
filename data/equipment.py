"""Equipment at the sites (chargers, energy meters, inverters, solar arrays, stationary batteries)
and its maintenance: what was done, by whom, and when it is next due.

Scope: a piece of equipment is seen through its site, so a dealer sees only what stands at its own
sites. Engineers and admins add and change equipment and record maintenance; every change goes to
the audit log under the equipment's serial. ``check_equipment`` is shared by the form and the import.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from data import audit
from data.db import Database, text
from data.scope import Scope
from data.device_admin import SERIAL
from data.forms import refuse_if_stale
from data.sites import DUE_SOON_DAYS, EDITORS, TODAY, SiteFormError

KINDS = {"charger": "Charger", "energy_meter": "Energy meter", "inverter": "Inverter", "solar_array": "Solar array",
         "stationary_battery": "Stationary battery"}
STATUSES = {"in_service": "In service", "faulty": "Faulty", "under_maintenance": "Under maintenance",
            "retired": "Retired"}
TEXT_MAX, RATING_MAX, WORK_MAX = 100, 40, 1000
OLDEST = date(2000, 1, 1)


@dataclass(frozen=True)
class EquipmentForm:
    serial: str | None
    site_code: str | None
    kind: str | None
    make: str | None
    model: str | None
    rating: str | None = None
    installed_on: object = None     # a date, or text as typed ("2025-03-01"); check_equipment reads it
    status: str | None = "in_service"


@dataclass(frozen=True)
class MaintenanceForm:
    done_on: object
    work: str | None
    done_by: str | None
    next_due: object = None


FIELDS = ("serial", "site_code", "kind", "make", "model", "rating", "installed_on", "status")


def may_edit(scope: Scope) -> bool:
    return scope.role in EDITORS


def india_today() -> date:
    return datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Kolkata")).date()


def day_of(value) -> date | None | str:
    """A calendar day from a date, or text like 2025-03-01 (a spreadsheet may add a time); "bad" otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) > 40:
        return "bad"
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return "bad"


def check_equipment(db: Database, scope: Scope, f: EquipmentForm, *, new: bool) -> tuple[dict[str, str], dict]:
    """Why ``f`` cannot be stored, per field (empty when it can), and the values as they would be stored."""
    errors: dict[str, str] = {}
    if not f.serial:
        errors["serial"] = "A serial number is needed."
    elif not SERIAL.match(f.serial):
        errors["serial"] = "Letters, digits and . _ / : - only, at most 100."
    elif new and db.scalar("SELECT 1 FROM equipment WHERE serial = :s", s=f.serial):
        errors["serial"] = f"There is equipment with serial {f.serial} already."
    if not f.site_code:
        errors["site_code"] = "A site is needed."
    elif not db.scalar(f"SELECT 1 FROM sites s WHERE s.code = :c AND {scope.sites('s')}", c=f.site_code,
                       **scope.params()):
        errors["site_code"] = f"No site {f.site_code!r}."
    if f.kind not in KINDS:
        errors["kind"] = f"One of: {', '.join(KINDS)}."
    for name in ("make", "model"):
        value = getattr(f, name)
        if not value:
            errors[name] = f"A {name} is needed."
        elif len(value) > TEXT_MAX:
            errors[name] = f"At most {TEXT_MAX} characters."
    if f.rating and len(f.rating) > RATING_MAX:
        errors["rating"] = f"At most {RATING_MAX} characters (like 3.3 kW AC)."
    installed = day_of(f.installed_on)
    if installed == "bad":
        errors["installed_on"] = "A date like 2025-03-01."
    elif installed is not None and not OLDEST <= installed <= india_today():
        errors["installed_on"] = "Not in the future, and not before 2000."
    if f.status not in STATUSES:
        errors["status"] = f"One of: {', '.join(STATUSES)}."
    values = dict(asdict(f), installed_on=installed if isinstance(installed, date) else None)
    return errors, values


_ROW = """SELECT e.id, e.serial, s.code AS site_code, s.name AS site, e.kind, e.make, e.model, e.rating, e.installed_on,
                 e.status, e.updated_at
          FROM equipment e JOIN sites s ON s.id = e.site_id"""


def one(db: Database, scope: Scope, serial: str) -> dict | None:
    return db.one(f"{_ROW} WHERE e.serial = :serial AND {scope.sites('s')}", serial=serial, **scope.params())


def write(conn, values: dict, *, new: bool) -> None:
    sql = ("""INSERT INTO equipment (site_id, kind, make, model, serial, rating, installed_on, status)
              VALUES ((SELECT id FROM sites WHERE code = :site_code), :kind, :make, :model, :serial, :rating,
                      :installed_on, :status)""" if new else
           """UPDATE equipment SET site_id = (SELECT id FROM sites WHERE code = :site_code), kind = :kind, make = :make,
                     model = :model, rating = :rating, installed_on = :installed_on, status = :status,
                     updated_at = now()
              WHERE serial = :serial""")
    conn.execute(text(sql), values)


def save(db: Database, scope: Scope, f: EquipmentForm, *, seen=None) -> dict:
    """Add equipment (``seen`` None) or change it (``seen``: the ``updated_at`` it was opened with)."""
    if not may_edit(scope):
        raise SiteFormError({"form": "Only engineers and admins change equipment."})
    new = seen is None
    errors, values = check_equipment(db, scope, f, new=new)
    if errors:
        raise SiteFormError(errors)
    try:
        with db.transaction() as conn:
            if new:
                write(conn, values, new=True)
                audit.record(conn, scope, "equipment.create", "equipment", f.serial, None,
                             {k: v for k, v in values.items() if v is not None})
            else:
                row = conn.execute(text(f"{_ROW} WHERE e.serial = :serial AND {scope.sites('s')} FOR UPDATE OF e"),
                                   {"serial": f.serial, **scope.params()}).mappings().first()
                if row is None:
                    raise SiteFormError({"form": "That equipment does not exist."})
                refuse_if_stale(SiteFormError, f.serial, row["updated_at"], seen)
                before, after = audit.changed({k: row[k] for k in FIELDS}, values)
                if after:
                    write(conn, values, new=False)
                    audit.record(conn, scope, "equipment.update", "equipment", f.serial, before, after)
    except sa.exc.IntegrityError:
        raise SiteFormError({"serial": f"There is equipment with serial {f.serial} already."}) from None
    return one(db, scope, f.serial)


def listing(db: Database, scope: Scope, site_id: int | None = None) -> list[dict]:
    """Equipment in scope (at one site, or all), each with its latest service and when the next is due."""
    return db.query(
        f"""SELECT e.id, e.serial, s.code AS site_code, s.name AS site, dl.code AS dealer_code, e.kind, e.make,
                   e.model, e.rating, e.installed_on, e.status, e.updated_at, m.done_on AS last_service,
                   m.next_due,
                   CASE WHEN e.status = 'retired' OR m.next_due IS NULL THEN NULL
                        WHEN m.next_due < {TODAY} THEN 'overdue'
                        WHEN m.next_due <= {TODAY} + {DUE_SOON_DAYS} THEN 'due soon' ELSE 'scheduled' END AS due
            FROM equipment e JOIN sites s ON s.id = e.site_id JOIN dealers dl ON dl.id = s.dealer_id
            LEFT JOIN LATERAL (SELECT done_on, next_due FROM maintenance_records WHERE equipment_id = e.id
                               ORDER BY done_on DESC, id DESC LIMIT 1) m ON true
            WHERE {scope.sites('s')} AND (CAST(:site AS integer) IS NULL OR s.id = :site)
            ORDER BY s.name, (e.status = 'retired'), e.kind, e.serial""",
        site=site_id, **scope.params())


def record_maintenance(db: Database, scope: Scope, serial: str | None, f: MaintenanceForm,
                       site_code: str | None = None) -> dict:
    """Keep a maintenance record for the equipment (at ``site_code``, when given); returns it as stored."""
    if not may_edit(scope):
        raise SiteFormError({"form": "Only engineers and admins record maintenance."})
    item = one(db, scope, serial) if serial else None
    if item is None or (site_code is not None and item["site_code"] != site_code):
        raise SiteFormError({"form": "Choose the equipment the work was done on."})
    errors: dict[str, str] = {}
    done, due = day_of(f.done_on), day_of(f.next_due)
    if done is None:
        errors["done_on"] = "When was the work done?"
    elif done == "bad":
        errors["done_on"] = "A date like 2026-11-30."
    elif done > india_today():
        errors["done_on"] = "Not in the future: record work once it is done."
    elif item["installed_on"] and done < item["installed_on"]:
        errors["done_on"] = f"Before the install date ({item['installed_on']:%d %b %Y})."
    if not f.work:
        errors["work"] = "Say what was done."
    elif len(f.work) > WORK_MAX:
        errors["work"] = f"At most {WORK_MAX:,} characters."
    if not f.done_by:
        errors["done_by"] = "Who did the work?"
    elif len(f.done_by) > TEXT_MAX:
        errors["done_by"] = f"At most {TEXT_MAX} characters."
    if due == "bad":
        errors["next_due"] = "A date like 2027-05-30, or empty."
    elif isinstance(due, date) and isinstance(done, date) and not done < due <= done + timedelta(days=3660):
        errors["next_due"] = "After the work date, and within ten years of it."
    if errors:
        raise SiteFormError(errors)
    with db.transaction() as conn:
        row = conn.execute(text(
            """INSERT INTO maintenance_records (equipment_id, done_on, work, done_by, next_due, recorded_by)
               VALUES (:equipment, :done_on, :work, :done_by, :next_due, :actor)
               RETURNING id, done_on, work, done_by, next_due"""),
            {"equipment": item["id"], "done_on": done, "work": f.work, "done_by": f.done_by,
             "next_due": due if isinstance(due, date) else None, "actor": scope.actor}).mappings().one()
        audit.record(conn, scope, "maintenance.record", "equipment", serial, None,
                     {"done_on": done, "work": f.work, "done_by": f.done_by, "next_due": row["next_due"]})
    return dict(row)


def maintenance(db: Database, scope: Scope, site_id: int, limit: int = 2000) -> list[dict]:
    """The site's maintenance records, newest first."""
    return db.query(
        f"""SELECT m.id, m.done_on, e.serial, e.kind, e.make, e.model, m.work, m.done_by, m.next_due, m.recorded_by
            FROM maintenance_records m JOIN equipment e ON e.id = m.equipment_id JOIN sites s ON s.id = e.site_id
            WHERE s.id = :site AND {scope.sites('s')}
            ORDER BY m.done_on DESC, m.id DESC LIMIT :limit""", site=site_id, limit=limit, **scope.params())
