"""Fleet health reports: who receives them (a dealer recipient gets its own dealer's report), the
reports made each day, and the past reports a user may open (a dealer, its own dealer's only).
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from data.db import Database
from data.scope import Scope


def recipients(db: Database) -> list[dict]:
    return db.query("""SELECT r.id, r.email, r.dealer_id, dl.code AS dealer_code, dl.name AS dealer
                       FROM report_recipients r LEFT JOIN dealers dl ON dl.id = r.dealer_id
                       ORDER BY dl.code NULLS FIRST, r.email""")


def add_recipient(db: Database, email: str, dealer_code: str | None) -> bool:
    """False when the dealer code is unknown."""
    dealer_id = None
    if dealer_code:
        dealer_id = db.scalar("SELECT id FROM dealers WHERE code = :c", c=dealer_code)
        if dealer_id is None:
            return False
    db.execute("""INSERT INTO report_recipients (email, dealer_id) VALUES (:email, :dealer_id)
                  ON CONFLICT ON CONSTRAINT report_recipients_once DO NOTHING""", email=email, dealer_id=dealer_id)
    return True


def remove_recipient(db: Database, email: str, dealer_code: str | None) -> int:
    return db.execute("""DELETE FROM report_recipients WHERE email = :email
                         AND dealer_id IS NOT DISTINCT FROM (SELECT id FROM dealers WHERE code = :c)""",
                      email=email, c=dealer_code)


def save_report(db: Database, as_of: date, dealer_id: int | None, scope_label: str, batteries: int,
                pdf: bytes, xlsx: bytes) -> int | None:
    return db.returning(
        """INSERT INTO health_reports (as_of, dealer_id, scope_label, batteries, pdf, xlsx)
           VALUES (:as_of, :dealer_id, :label, :batteries, :pdf, :xlsx)
           ON CONFLICT (as_of, coalesce(dealer_id, 0)) DO NOTHING RETURNING id""",
        as_of=as_of, dealer_id=dealer_id, label=scope_label, batteries=batteries, pdf=pdf, xlsx=xlsx)


def report_sent(db: Database, report_id: int, sent_to: list[str], error: str | None) -> None:
    db.execute("UPDATE health_reports SET sent_to = :sent, send_error = :error WHERE id = :id",
               id=report_id, sent=sent_to, error=error)


def reports(db: Database, scope: Scope, limit: int = 90) -> pd.DataFrame:
    """Past reports the user may open: a dealer sees its own dealer's reports only."""
    where = "TRUE" if scope.whole_fleet else "r.dealer_id = :scope_dealer_id"
    return db.frame(f"""SELECT r.id, r.as_of, r.scope_label, r.batteries, r.created_at,
                               array_to_string(r.sent_to, ', ') AS sent_to, r.send_error
                        FROM health_reports r WHERE {where}
                        ORDER BY r.as_of DESC, r.id DESC LIMIT :limit""", limit=limit, **scope.params())


def report_file(db: Database, scope: Scope, report_id: int, kind: str) -> dict | None:
    column = {"pdf": "pdf", "xlsx": "xlsx"}[kind]
    where = "TRUE" if scope.whole_fleet else "r.dealer_id = :scope_dealer_id"
    return db.one(f"""SELECT r.id, r.as_of, r.scope_label, r.{column} AS body FROM health_reports r
                      WHERE r.id = :id AND {where}""", id=report_id, **scope.params())


def dealer_scopes(db: Database) -> list[dict]:
    """Dealers that have report recipients: each gets a report of its own scope."""
    return db.query("""SELECT DISTINCT dl.id, dl.code, dl.name FROM report_recipients r
                       JOIN dealers dl ON dl.id = r.dealer_id ORDER BY dl.code""")
