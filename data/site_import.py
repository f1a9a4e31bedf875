"""Bulk import of sites and of equipment from CSV or XLSX, like the device import: shared by the
sites page and ``flask --app app sites import FILE`` / ``flask --app app equipment import FILE``.

Every row is judged on its own with the form's own checks (``sites.check_site``,
``equipment.check_equipment``) plus duplicates inside the file; valid rows are applied, each invalid
row is reported with its line and reason, a row equal to what is stored is "unchanged" (so a second
import changes nothing), and a dry run writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
import sqlalchemy as sa

from data import audit, equipment, imports, sites
from data.db import Database
from data.imports import ImportFileError, ImportResult, RowResult, cell
from data.scope import Scope


@dataclass(frozen=True)
class Spec:
    kind: str                 # what the file holds, as the page and the command name it
    key: str                  # the column that names a row
    required: tuple[str, ...]
    optional: tuple[str, ...]
    template: tuple[dict, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SITES = Spec("sites", "code", ("code", "name", "kind", "dealer_code", "city", "climate_zone"),
             ("address", "state", "latitude", "longitude"),
             ({"code": "LKO01-HUB2", "name": "Charbagh charging hub", "kind": "charging_hub", "dealer_code": "LKO01",
               "city": "Lucknow", "climate_zone": "composite", "address": "Station Road, Charbagh",
               "state": "Uttar Pradesh", "latitude": "26.8320", "longitude": "80.9210"},))
EQUIPMENT = Spec("equipment", "serial", ("serial", "site_code", "kind", "make", "model"),
                 ("rating", "installed_on", "status"),
                 ({"serial": "EXI-LKO01-HUB2-CHA01", "site_code": "LKO01-HUB2", "kind": "charger", "make": "Exicom",
                   "model": "Spin Air 3.3", "rating": "3.3 kW AC", "installed_on": "2026-06-15",
                   "status": "in_service"},))
SPECS = {spec.kind: spec for spec in (SITES, EQUIPMENT)}


def spec_of(kind: str) -> Spec:
    if kind not in SPECS:
        raise ImportFileError(f"Choose what the file holds: {' or '.join(SPECS)}.")
    return SPECS[kind]


def template_csv(kind: str) -> str:
    spec = spec_of(kind)
    return imports.template_csv(list(spec.template), spec.columns)


def read_file(kind: str, name: str, data: bytes, max_bytes: int) -> pd.DataFrame:
    spec = spec_of(kind)
    return imports.read_table(name, data, max_bytes, spec.required, spec.columns)


def _word(value: str | None) -> str | None:
    """"Charging hub", "charging-hub" and "CHARGING_HUB" are all charging_hub."""
    return value.strip().lower().replace(" ", "_").replace("-", "_") if value else None


def _site_row(row: dict) -> sites.SiteForm:
    return sites.SiteForm(code=sites.code_key(cell(row, "code")), name=cell(row, "name"), kind=_word(cell(row, "kind")),
                          dealer_code=(cell(row, "dealer_code") or "").upper() or None, city=cell(row, "city"),
                          climate_zone=_word(cell(row, "climate_zone")), address=cell(row, "address"),
                          state=cell(row, "state"), latitude=cell(row, "latitude"), longitude=cell(row, "longitude"))


def _equipment_row(row: dict, stored: dict | None) -> equipment.EquipmentForm:
    status = _word(cell(row, "status")) or (stored["status"] if stored else "in_service")
    return equipment.EquipmentForm(serial=cell(row, "serial"), site_code=sites.code_key(cell(row, "site_code")),
                                   kind=_word(cell(row, "kind")), make=cell(row, "make"), model=cell(row, "model"),
                                   rating=cell(row, "rating"), installed_on=cell(row, "installed_on"), status=status)


def _judge_site(db: Database, scope: Scope, row: dict) -> tuple[str, list[str], dict | None, dict]:
    form = _site_row(row)
    stored = sites.one(db, scope, form.code) if form.code else None
    errors, values = sites.check_site(db, form, new=stored is None)
    now = {k: stored[k] for k in sites.FIELDS} if stored else None
    if stored and not errors and stored["dealer_code"] != values["dealer_code"]:
        with db.connect() as conn:
            problem = sites.dealer_change_problem(conn, form.code, values["dealer_code"])
        if problem:
            errors["dealer_code"] = problem
    return form.code or "", _named(errors), now, values


def _named(errors: dict[str, str]) -> list[str]:
    """The form's messages, each after its column (the form shows them under the field instead)."""
    return [f"{field}: {message}" for field, message in errors.items()]


def _judge_equipment(db: Database, scope: Scope, row: dict) -> tuple[str, list[str], dict | None, dict]:
    serial = cell(row, "serial")
    stored = equipment.one(db, scope, serial) if serial else None
    form = _equipment_row(row, stored)
    errors, values = equipment.check_equipment(db, scope, form, new=stored is None)
    now = {k: stored[k] for k in equipment.FIELDS} if stored else None
    return serial or "", _named(errors), now, values


def _apply(db: Database, scope: Scope, spec: Spec, key: str, now: dict | None, values: dict,
           before: dict | None, after: dict) -> None:
    write: Callable = sites.write if spec is SITES else equipment.write
    target = "site" if spec is SITES else "equipment"
    with db.transaction() as conn:
        write(conn, values, new=now is None)
        audit.record(conn, scope, f"{target}.import_{'new' if now is None else 'change'}", target, key, before, after)


def run(db: Database, scope: Scope, kind: str, frame: pd.DataFrame, *, dry_run: bool) -> ImportResult:
    """Judge every row; unless ``dry_run``, apply the valid ones (each in its own transaction)."""
    spec = spec_of(kind)
    if not sites.may_edit(scope):
        raise ImportFileError(f"Only engineers and admins import {spec.kind}.")
    judge = _judge_site if spec is SITES else _judge_equipment
    result = ImportResult(dry_run=dry_run)
    seen: dict[str, int] = {}
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        key, errors, now, values = judge(db, scope, row)
        if key and key.upper() in seen:
            errors.insert(0, f"duplicate {spec.key} {key} (also on line {seen[key.upper()]})")
        elif key:
            seen[key.upper()] = line
        if errors:
            result.rows.append(RowResult(line, key, "error", imports.reasons(errors)))
            continue
        if now is None:
            status, message, before, after = "new", "", None, {k: v for k, v in values.items() if v is not None}
        else:
            before, after = audit.changed(now, values)
            if not after:
                result.rows.append(RowResult(line, key, "unchanged"))
                continue
            status = "changed"
            message = ", ".join(f"{k}: {before[k] if before[k] is not None else '—'} → "
                                f"{after[k] if after[k] is not None else '—'}" for k in after)
        if not dry_run:
            try:
                _apply(db, scope, spec, key, now, values, before, after)
            except sa.exc.IntegrityError:
                result.rows.append(RowResult(line, key, "error", f"another change took this {spec.key} meanwhile: "
                                                                 "import the row again"))
                continue
        result.rows.append(RowResult(line, key, status, message))
    return result
