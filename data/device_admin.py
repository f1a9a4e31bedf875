"""Devices as engineers manage them: the list (in scope, paged and sorted on the server, with each
device's data completeness), the mapping device ↔ battery serial ↔ vehicle ↔ dealer ↔ customer,
activation, and each device's history (the audit log filtered to it).

``check_mapping`` is the one validation behind the form and the bulk import, so both refuse the same
rows for the same reasons. A change names the ``updated_at`` it was opened with and is refused when
the device changed since.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from data import audit
from data.db import Database, like_escaped, text
from data.forms import FormError, refuse_if_stale
from data.scope import Scope

EDITORS = ("admin", "engineer")
# Indian registration numbers: state, district, series, number (UP32AB1234, DL1ER1234, BR01ED1003).
VEHICLE = re.compile(r"^[A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{1,4}$")
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$")
SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./:-]{0,99}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
TEXT_MAX = 100
EXPECTED_SECONDS = 30   # the vendor's documented cadence: one battery reading every ~30 s

SORTS = {"device_id": "d.device_id", "battery_serial": "d.battery_serial", "model": "b.model",
         "vehicle_number": "d.vehicle_number", "dealer": "dl.name", "customer_name": "d.customer_name",
         "city": "d.city", "site": "st.name", "activated_at": "d.activated_at", "is_active": "d.is_active",
         "last_seen": "s.reading_time"}


class DeviceFormError(FormError):
    """A device change refused."""


@dataclass(frozen=True)
class Mapping:
    battery_serial: str | None
    vehicle_number: str | None
    dealer_code: str | None
    customer_name: str | None
    customer_phone: str | None
    city: str | None
    site_code: str | None = None     # the site the battery is based at (one of its dealer's)


def may_edit(scope: Scope) -> bool:
    return scope.role in EDITORS


def vehicle_key(value: str | None) -> str | None:
    """A vehicle number as stored: capitals, no spaces or dashes ("up 32-ab 1234" is UP32AB1234)."""
    return re.sub(r"[\s-]", "", value).upper() if value else None


def check_mapping(db: Database, device_id: str, m: Mapping, *, new_serial_model: str | None = None) -> dict[str, str]:
    """Why ``m`` cannot be ``device_id``'s mapping, per field; empty when it can. The serial must
    name a known battery (or ``new_serial_model`` a known model, for an import that adds it)."""
    errors: dict[str, str] = {}
    if not m.battery_serial:
        errors["battery_serial"] = "A battery serial is needed."
    elif not SERIAL.match(m.battery_serial):
        errors["battery_serial"] = "Letters, digits and . _ / : - only, at most 100."
    else:
        known = db.scalar("SELECT 1 FROM batteries WHERE serial = :s", s=m.battery_serial)
        if not known and new_serial_model is None:
            errors["battery_serial"] = f"No battery {m.battery_serial}: add it with a battery_model in an import."
        elif not known and not db.scalar("SELECT 1 FROM battery_models WHERE model = :m", m=new_serial_model):
            errors["battery_model"] = f"No battery model {new_serial_model!r}."
        holder = db.scalar("SELECT device_id FROM devices WHERE battery_serial = :s AND device_id <> :d",
                           s=m.battery_serial, d=device_id)
        if holder:
            errors["battery_serial"] = f"Battery {m.battery_serial} is on device {holder}: unmap it there first."
    if not m.vehicle_number:
        errors["vehicle_number"] = "A vehicle number is needed."
    elif not VEHICLE.match(m.vehicle_number):
        errors["vehicle_number"] = f"{m.vehicle_number!r} is not a vehicle registration number (like UP32AB1234)."
    else:
        holder = db.scalar("SELECT device_id FROM devices WHERE vehicle_number = :v AND device_id <> :d",
                           v=m.vehicle_number, d=device_id)
        if holder:
            errors["vehicle_number"] = f"Vehicle {m.vehicle_number} is on device {holder}."
    if not m.dealer_code:
        errors["dealer_code"] = "A dealer is needed."
    elif not db.scalar("SELECT 1 FROM dealers WHERE code = :c", c=m.dealer_code):
        errors["dealer_code"] = f"No dealer {m.dealer_code!r}."
    if m.customer_phone and not PHONE.match(m.customer_phone):
        errors["customer_phone"] = "Digits, spaces, dashes and a leading +, 8 to 20 long."
    if m.site_code:
        site_dealer = db.one("SELECT dl.code FROM sites s JOIN dealers dl ON dl.id = s.dealer_id WHERE s.code = :c",
                             c=m.site_code)
        if site_dealer is None:
            errors["site_code"] = f"No site {m.site_code!r}."
        elif m.dealer_code and "dealer_code" not in errors and site_dealer["code"] != m.dealer_code:
            errors["site_code"] = f"Site {m.site_code} belongs to dealer {site_dealer['code']}, not {m.dealer_code}."
    for field in ("customer_name", "city"):
        if (getattr(m, field) or "") and len(getattr(m, field)) > TEXT_MAX:
            errors[field] = f"At most {TEXT_MAX} characters."
    return errors


_ROW = """SELECT d.device_id, d.battery_serial, d.vehicle_number, dl.code AS dealer_code, d.customer_name,
                 d.customer_phone, d.city, st.code AS site_code, d.is_active, d.activated_at, d.updated_at
          FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id LEFT JOIN sites st ON st.id = d.site_id"""


def one(db: Database, scope: Scope, device_id: str) -> dict | None:
    return db.one(f"{_ROW} WHERE d.device_id = :id AND {scope.devices('d')}", id=device_id, **scope.params())


def _mapping_of(row: dict) -> dict:
    return {k: row.get(k) for k in Mapping.__dataclass_fields__}


def _locked(conn, scope: Scope, device_id: str, seen) -> dict:
    row = conn.execute(text(f"{_ROW} WHERE d.device_id = :id AND {scope.devices('d')} FOR UPDATE OF d"),
                       {"id": device_id, **scope.params()}).mappings().first()
    if row is None:
        raise DeviceFormError({"form": "That device does not exist."})
    row = dict(row)
    refuse_if_stale(DeviceFormError, device_id, row["updated_at"], seen)
    return row


def write_mapping(conn, device_id: str, m: Mapping) -> None:
    conn.execute(text(
        """UPDATE devices SET battery_serial = :battery_serial, vehicle_number = :vehicle_number,
                  dealer_id = (SELECT id FROM dealers WHERE code = :dealer_code), customer_name = :customer_name,
                  customer_phone = :customer_phone, city = :city,
                  site_id = (SELECT id FROM sites WHERE code = :site_code), updated_at = now()
           WHERE device_id = :device_id"""), dict(asdict(m), device_id=device_id))


def update(db: Database, scope: Scope, device_id: str, seen, m: Mapping) -> dict:
    """Change a device's mapping (engineers and admins); returns the device as stored."""
    if not may_edit(scope):
        raise DeviceFormError({"form": "Only engineers and admins change devices."})
    errors = check_mapping(db, device_id, m)
    if errors:
        raise DeviceFormError(errors)
    try:
        with db.transaction() as conn:
            row = _locked(conn, scope, device_id, seen)
            before, after = audit.changed(_mapping_of(row), asdict(m))
            if after:
                write_mapping(conn, device_id, m)
                audit.record(conn, scope, "device.update", "device", device_id, before, after)
    except sa.exc.IntegrityError:
        # Another change took the serial or vehicle between the check and the write.
        raise DeviceFormError({"form": "Another change took that battery or vehicle a moment ago: reopen and retry."}) \
            from None
    return one(db, scope, device_id)


def set_active(db: Database, scope: Scope, device_id: str, seen, active: bool) -> dict:
    """Activate or deactivate (a deactivated device is not polled and leaves the fleet views)."""
    if not may_edit(scope):
        raise DeviceFormError({"form": "Only engineers and admins change devices."})
    with db.transaction() as conn:
        row = _locked(conn, scope, device_id, seen)
        if row["is_active"] != active:
            conn.execute(text("""UPDATE devices SET is_active = :a, updated_at = now(),
                                        activated_at = CASE WHEN :a THEN now() ELSE activated_at END
                                 WHERE device_id = :id"""), {"a": active, "id": device_id})
            audit.record(conn, scope, "device.activate" if active else "device.deactivate", "device", device_id,
                         {"active": row["is_active"]}, {"active": active})
    return one(db, scope, device_id)


def history(db: Database, scope: Scope, device_id: str) -> list[dict]:
    """The device's changes, newest first; nothing for a device outside the scope."""
    if one(db, scope, device_id) is None:
        return []
    return audit.history(db, "device", device_id)


# -- the list ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceFilter:
    text: str | None = None        # device, serial, vehicle or customer, in part
    dealer_code: str | None = None
    active: bool | None = None


def _where(scope: Scope, f: DeviceFilter) -> tuple[str, dict]:
    like = f"%{like_escaped(f.text)}%" if f.text else None
    sql = f"""{scope.devices('d')}
              AND (CAST(:like AS text) IS NULL OR d.device_id ILIKE :like OR d.battery_serial ILIKE :like
                   OR d.vehicle_number ILIKE :like OR d.customer_name ILIKE :like OR d.city ILIKE :like)
              AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
              AND (CAST(:active AS boolean) IS NULL OR d.is_active = :active)"""
    return sql, {"like": like, "dealer": f.dealer_code, "active": f.active, **scope.params()}


_FROM = """FROM devices d LEFT JOIN dealers dl ON dl.id = d.dealer_id LEFT JOIN batteries b ON b.serial = d.battery_serial
           LEFT JOIN device_state s ON s.device_id = d.device_id LEFT JOIN sites st ON st.id = d.site_id"""


def count(db: Database, scope: Scope, f: DeviceFilter) -> int:
    where, params = _where(scope, f)
    return db.scalar(f"SELECT count(*) {_FROM} WHERE {where}", **params)


def listing(db: Database, scope: Scope, f: DeviceFilter, *, offset: int = 0, limit: int = 100,
            sort: str = "device_id", descending: bool = False, completeness: bool = True,
            gaps: bool = True) -> list[dict]:
    """One page of devices. ``completeness``: the share of expected readings received in the last
    24 h and 7 days (hourly rollups); ``gaps``: the longest gap in the last 24 h (raw readings). Both
    for the page's rows only, so a page costs the same at 22,000 devices as at 40 (an export of the
    whole fleet leaves the gaps out)."""
    where, params = _where(scope, f)
    order = SORTS.get(sort, SORTS["device_id"])
    page = f"""SELECT d.device_id, d.battery_serial, b.model, d.vehicle_number, dl.code AS dealer_code,
                      dl.name AS dealer, d.customer_name, d.customer_phone, d.city, st.code AS site_code, st.name AS site,
                      d.activated_at, d.is_active,
                      s.reading_time AS last_seen, d.updated_at
               {_FROM} WHERE {where}
               ORDER BY {order} {'DESC' if descending else 'ASC'} NULLS LAST, d.device_id
               LIMIT :limit OFFSET :offset"""
    if not completeness:
        return db.query(page, limit=limit, offset=offset, **params)
    return db.query(
        f"""WITH page AS ({page})
            SELECT page.*,
                   least(1.0, h.day / greatest(extract(epoch FROM now() - greatest(page.activated_at,
                         now() - INTERVAL '24 hours')) / :cadence, 1)) AS complete_24h,
                   least(1.0, h.week / greatest(extract(epoch FROM now() - greatest(page.activated_at,
                         now() - INTERVAL '7 days')) / :cadence, 1)) AS complete_7d,
                   g.longest AS longest_gap_s
            FROM page
            LEFT JOIN LATERAL (
                SELECT coalesce(sum(reading_count) FILTER (WHERE bucket > now() - INTERVAL '24 hours'), 0) AS day,
                       coalesce(sum(reading_count), 0) AS week
                FROM telemetry.battery_hourly WHERE device_id = page.device_id AND bucket > now() - INTERVAL '7 days'
            ) h ON true
            {_GAPS if gaps else "LEFT JOIN LATERAL (SELECT NULL::float AS longest) g ON true"}
            ORDER BY page.{sort if sort in SORTS else 'device_id'} {'DESC' if descending else 'ASC'} NULLS LAST,
                     page.device_id""",
        limit=limit, offset=offset, cadence=EXPECTED_SECONDS, **params)


_GAPS = """
            LEFT JOIN LATERAL (
                SELECT extract(epoch FROM greatest(max(step), now() - max(time),
                                                   min(time) - greatest(page.activated_at, now() - INTERVAL '24 hours')))
                       AS longest
                FROM (SELECT time, time - lag(time) OVER (ORDER BY time) AS step FROM telemetry.battery_readings
                      WHERE device_id = page.device_id AND time > now() - INTERVAL '24 hours') r
            ) g ON true"""


def dealer_options(db: Database, scope: Scope) -> list[dict]:
    return db.query(f"""SELECT code, name FROM dealers dl
                        WHERE {'TRUE' if scope.whole_fleet else 'dl.id = :scope_dealer_id'} ORDER BY name""",
                    **scope.params())

