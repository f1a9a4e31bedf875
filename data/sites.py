"""Sites: dealer showrooms, charging hubs and depots, with address, position, climate zone and the
dealer each belongs to; the locations grid (batteries and their health per site) and a site's own
batteries.

A dealer sees only its own sites (``Scope.sites`` in every query); engineers and admins create and
change them. ``check_site`` is the one validation behind the form and the import, so both refuse the
same rows for the same reasons; a change names the ``updated_at`` it was opened with and is refused
when the site changed since.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from data import audit
from data.db import Database, like_escaped, text
from data.forms import FormError, refuse_if_stale
from data.fleet import STATUSES, FleetFilter, fleet_cte, fleet_params
from data.scope import Scope

EDITORS = ("admin", "engineer")
KINDS = {"showroom": "Showroom", "charging_hub": "Charging hub", "depot": "Depot"}
# India's five climate zones (National Building Code, 2016). Heat is what ages an LFP pack fastest.
CLIMATE_ZONES = {"hot_dry": "Hot and dry", "warm_humid": "Warm and humid", "composite": "Composite",
                 "temperate": "Temperate", "cold": "Cold"}
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
# Our fleets are in India: a position outside it is a typo, most often latitude and longitude swapped.
LATITUDES, LONGITUDES = (6.0, 37.5), (68.0, 97.5)
NAME_MAX, ADDRESS_MAX = 100, 300
DUE_SOON_DAYS = 30
TODAY = "(now() AT TIME ZONE 'Asia/Kolkata')::date"   # maintenance days are Indian calendar days


class SiteFormError(FormError):
    """A site, equipment or maintenance change refused."""


@dataclass(frozen=True)
class SiteForm:
    code: str | None
    name: str | None
    kind: str | None
    dealer_code: str | None
    city: str | None
    climate_zone: str | None
    address: str | None = None
    state: str | None = None
    latitude: object = None       # as typed: a number, a string or nothing; check_site reads it
    longitude: object = None


FIELDS = ("code", "name", "kind", "dealer_code", "city", "climate_zone", "address", "state", "latitude", "longitude")


def may_edit(scope: Scope) -> bool:
    return scope.role in EDITORS


def code_key(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def _number(value) -> float | None | str:
    """A coordinate as a float, None when empty, "bad" when it is not a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "bad"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "bad"
    return number if math.isfinite(number) else "bad"


def check_site(db: Database, f: SiteForm, *, new: bool) -> tuple[dict[str, str], dict]:
    """Why ``f`` cannot be stored, per field (empty when it can), and the values as they would be stored."""
    errors: dict[str, str] = {}
    if not f.code:
        errors["code"] = "A site code is needed."
    elif not CODE.match(f.code):
        errors["code"] = "Capitals, digits, - and _ only, 2 to 32 long (like LKO01-HUB)."
    elif new and db.scalar("SELECT 1 FROM sites WHERE code = :c", c=f.code):
        errors["code"] = f"There is a site {f.code} already."
    if not f.name:
        errors["name"] = "A name is needed."
    elif len(f.name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    if f.kind not in KINDS:
        errors["kind"] = f"One of: {', '.join(KINDS)}."
    if not f.dealer_code:
        errors["dealer_code"] = "A dealer is needed."
    elif not db.scalar("SELECT 1 FROM dealers WHERE code = :c", c=f.dealer_code):
        errors["dealer_code"] = f"No dealer {f.dealer_code!r}."
    if not f.city:
        errors["city"] = "A city is needed."
    elif len(f.city) > NAME_MAX:
        errors["city"] = f"At most {NAME_MAX} characters."
    if f.climate_zone not in CLIMATE_ZONES:
        errors["climate_zone"] = f"One of: {', '.join(CLIMATE_ZONES)}."
    for name, limit in (("address", ADDRESS_MAX), ("state", NAME_MAX)):
        if getattr(f, name) and len(getattr(f, name)) > limit:
            errors[name] = f"At most {limit} characters."
    lat, lon = _number(f.latitude), _number(f.longitude)
    for name, value, (low, high) in (("latitude", lat, LATITUDES), ("longitude", lon, LONGITUDES)):
        if value == "bad":
            errors[name] = "A number in decimal degrees, like 26.8467."
        elif value is not None and not low <= value <= high:
            errors[name] = (f"Outside India ({low}° to {high}°): are latitude and longitude swapped?")
    if (lat is None) != (lon is None) and "latitude" not in errors and "longitude" not in errors:
        errors["latitude" if lat is None else "longitude"] = "Give both latitude and longitude, or neither."
    values = dict(asdict(f), latitude=None if lat in (None, "bad") else round(lat, 6),
                  longitude=None if lon in (None, "bad") else round(lon, 6))
    return errors, values


_ROW = """SELECT s.id, s.code, s.name, s.kind, dl.code AS dealer_code, dl.name AS dealer, s.address, s.city, s.state,
                 s.latitude, s.longitude, s.climate_zone, s.created_at, s.updated_at
          FROM sites s JOIN dealers dl ON dl.id = s.dealer_id"""


def one(db: Database, scope: Scope, code: str) -> dict | None:
    return db.one(f"{_ROW} WHERE s.code = :code AND {scope.sites('s')}", code=code, **scope.params())


def _stored_values(row: dict) -> dict:
    return {k: row.get(k) for k in FIELDS}


def write(conn, values: dict, *, new: bool) -> None:
    sql = ("""INSERT INTO sites (code, name, kind, dealer_id, address, city, state, latitude, longitude, climate_zone)
              VALUES (:code, :name, :kind, (SELECT id FROM dealers WHERE code = :dealer_code), :address, :city, :state,
                      :latitude, :longitude, :climate_zone)""" if new else
           """UPDATE sites SET name = :name, kind = :kind, dealer_id = (SELECT id FROM dealers WHERE code = :dealer_code),
                     address = :address, city = :city, state = :state, latitude = :latitude, longitude = :longitude,
                     climate_zone = :climate_zone, updated_at = now()
              WHERE code = :code""")
    conn.execute(text(sql), values)


def dealer_change_problem(conn, code: str, dealer_code: str) -> str | None:
    """A site cannot move to another dealer while that dealer's batteries are based there."""
    held = conn.execute(text("""SELECT count(*) FROM devices d JOIN sites s ON s.id = d.site_id
                                JOIN dealers dl ON dl.id = d.dealer_id WHERE s.code = :code AND dl.code <> :dealer"""),
                        {"code": code, "dealer": dealer_code}).scalar()
    return (f"{held} batter{'y is' if held == 1 else 'ies are'} of another dealer based here: move "
            f"{'it' if held == 1 else 'them'} first.") if held else None


def create(db: Database, scope: Scope, f: SiteForm) -> dict:
    if not may_edit(scope):
        raise SiteFormError({"form": "Only engineers and admins change sites."})
    errors, values = check_site(db, f, new=True)
    if errors:
        raise SiteFormError(errors)
    try:
        with db.transaction() as conn:
            write(conn, values, new=True)
            audit.record(conn, scope, "site.create", "site", f.code, None, {k: v for k, v in values.items() if v is not None})
    except sa.exc.IntegrityError:   # the same code created between the check and the write
        raise SiteFormError({"code": f"There is a site {f.code} already."}) from None
    return one(db, scope, f.code)


def update(db: Database, scope: Scope, code: str, seen, f: SiteForm) -> dict:
    """Change a site (not its code, which devices and imports name it by)."""
    if not may_edit(scope):
        raise SiteFormError({"form": "Only engineers and admins change sites."})
    f = SiteForm(**dict(asdict(f), code=code))
    errors, values = check_site(db, f, new=False)
    if errors:
        raise SiteFormError(errors)
    with db.transaction() as conn:
        row = conn.execute(text(f"{_ROW} WHERE s.code = :code AND {scope.sites('s')} FOR UPDATE OF s"),
                           {"code": code, **scope.params()}).mappings().first()
        if row is None:
            raise SiteFormError({"form": "That site does not exist."})
        refuse_if_stale(SiteFormError, code, row["updated_at"], seen)
        problem = dealer_change_problem(conn, code, values["dealer_code"]) if row["dealer_code"] != values["dealer_code"] \
            else None
        if problem:
            raise SiteFormError({"dealer_code": problem})
        before, after = audit.changed(_stored_values(dict(row)), values)
        if after:
            write(conn, values, new=False)
            audit.record(conn, scope, "site.update", "site", code, before, after)
    return one(db, scope, code)


def history(db: Database, scope: Scope, code: str) -> list[dict]:
    """The site's changes and those of its equipment, newest first; nothing for a site outside the scope."""
    if one(db, scope, code) is None:
        return []
    return db.query("""SELECT at, actor, action, target_kind, target, before, after, note FROM audit_log
                       WHERE (target_kind = 'site' AND target = :code)
                          OR (target_kind = 'equipment' AND target IN (
                                SELECT e.serial FROM equipment e JOIN sites s ON s.id = e.site_id WHERE s.code = :code))
                       ORDER BY at DESC, id DESC LIMIT 200""", code=code)


# -- the locations grid ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteFilter:
    text: str | None = None           # code, name, city or address, in part
    dealer_code: str | None = None
    kind: str | None = None
    climate_zone: str | None = None


def locations(db: Database, scope: Scope, filt: SiteFilter = SiteFilter()) -> list[dict]:
    """Every site in scope with its batteries by health status, their mean SOH, its equipment and the
    maintenance that is due: worst first (most critical batteries, then faulty equipment, then overdue
    service)."""
    like = f"%{like_escaped(filt.text)}%" if filt.text else None
    return db.query(
        f"""WITH {fleet_cte(scope)},
            health AS (
              SELECT site_id, count(*) AS batteries,
                     {', '.join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in STATUSES)},
                     avg(soh) FILTER (WHERE soh_measured) AS avg_soh
              FROM f WHERE site_id IS NOT NULL GROUP BY site_id),
            kit AS (
              SELECT e.site_id, count(*) FILTER (WHERE e.status <> 'retired') AS equipment,
                     count(*) FILTER (WHERE e.status = 'faulty') AS faulty,
                     count(*) FILTER (WHERE m.next_due < {TODAY} AND e.status <> 'retired') AS overdue,
                     count(*) FILTER (WHERE m.next_due BETWEEN {TODAY} AND {TODAY} + {DUE_SOON_DAYS}
                                        AND e.status <> 'retired') AS due_soon
              FROM equipment e
              LEFT JOIN LATERAL (SELECT next_due FROM maintenance_records WHERE equipment_id = e.id
                                 ORDER BY done_on DESC, id DESC LIMIT 1) m ON true
              GROUP BY e.site_id)
            SELECT s.id, s.code, s.name, s.kind, dl.code AS dealer_code, dl.name AS dealer, s.city, s.state,
                   s.address, s.latitude, s.longitude, s.climate_zone,
                   coalesce(h.batteries, 0) AS batteries,
                   {', '.join(f"coalesce(h.{st}, 0) AS {st}" for st in STATUSES)}, h.avg_soh,
                   coalesce(k.equipment, 0) AS equipment, coalesce(k.faulty, 0) AS faulty,
                   coalesce(k.overdue, 0) AS overdue, coalesce(k.due_soon, 0) AS due_soon
            FROM sites s JOIN dealers dl ON dl.id = s.dealer_id
            LEFT JOIN health h ON h.site_id = s.id LEFT JOIN kit k ON k.site_id = s.id
            WHERE {scope.sites('s')}
              AND (CAST(:like AS text) IS NULL OR s.code ILIKE :like OR s.name ILIKE :like OR s.city ILIKE :like
                   OR s.address ILIKE :like)
              AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
              AND (CAST(:kind AS text) IS NULL OR s.kind = :kind)
              AND (CAST(:zone AS text) IS NULL OR s.climate_zone = :zone)
            ORDER BY coalesce(h.critical, 0) DESC, coalesce(k.faulty, 0) DESC, coalesce(k.overdue, 0) DESC,
                     coalesce(h.warning, 0) DESC, s.name""",
        **fleet_params(scope, FleetFilter()), like=like, dealer=filt.dealer_code, kind=filt.kind, zone=filt.climate_zone)


def unplaced(db: Database, scope: Scope) -> int:
    """Active batteries in scope based at no site (they count in no card of the grid)."""
    return db.scalar(f"SELECT count(*) FROM devices d WHERE d.is_active AND d.site_id IS NULL AND {scope.devices('d')}",
                     **scope.params())


def batteries(db: Database, scope: Scope, site_id: int, status: str | None = None, limit: int = 5000) -> list[dict]:
    """The active batteries based at the site, with their latest state and health status, worst first."""
    return db.query(
        f"""WITH {fleet_cte(scope)}
            SELECT f.device_id, f.vehicle_number, f.battery_serial, f.customer_name, f.status, f.soc, f.soh,
                   f.soh_measured, f.voltage, f.temperature, f.charge_cycle, f.reading_time, f.charging
            FROM f
            ORDER BY array_position(ARRAY['critical', 'warning', 'offline', 'ok'], f.status), f.soh NULLS LAST,
                     f.device_id
            LIMIT :limit""",
        **fleet_params(scope, FleetFilter(status=status, site_id=site_id)), limit=limit)


def status_counts(db: Database, scope: Scope, site_id: int) -> tuple[dict[str, int], float | None]:
    """The site's active batteries per health status, and their mean measured SOH."""
    rows = db.query(f"""WITH {fleet_cte(scope)}
                        SELECT status, count(*) AS n, sum(soh) FILTER (WHERE soh_measured) AS soh_sum,
                               count(*) FILTER (WHERE soh_measured) AS soh_n
                        FROM f GROUP BY status""", **fleet_params(scope, FleetFilter(site_id=site_id)))
    counts = {s: 0 for s in STATUSES}
    counts.update({r["status"]: r["n"] for r in rows})
    measured = sum(r["soh_n"] for r in rows)
    return counts, (sum(float(r["soh_sum"] or 0) for r in rows) / measured if measured else None)


def options(db: Database, scope: Scope, dealer_code: str | None = None) -> list[dict]:
    """Sites in scope (of one dealer, when given), for a choice of site."""
    return db.query(f"""SELECT s.code, s.name, dl.code AS dealer_code FROM sites s JOIN dealers dl ON dl.id = s.dealer_id
                        WHERE {scope.sites('s')} AND (CAST(:dealer AS text) IS NULL OR dl.code = :dealer)
                        ORDER BY dl.name, s.name""", dealer=dealer_code, **scope.params())
