"""The alerts page's date filter counts Indian days: an alert first seen at 00:30 IST on a day is in
that day, one at 23:30 IST the day before is not (a date cast straight to a zone lands at 05:30)."""
from datetime import date, datetime, timedelta, timezone

from data import alert_views
from data.scope import Scope

IST = timezone(timedelta(hours=5, minutes=30))


def test_until_and_since_are_ist_midnights(plain_db):
    db = plain_db
    db.execute("INSERT INTO devices (device_id, vehicle_number) VALUES ('D1', 'UP32AA0001')")
    for at in (datetime(2026, 12, 1, 0, 30, tzinfo=IST), datetime(2026, 11, 30, 23, 30, tzinfo=IST),
               datetime(2026, 12, 2, 4, 0, tzinfo=IST)):
        db.execute("""INSERT INTO alerts (device_id, alert_type, severity, message, first_seen_at, last_seen_at,
                                          resolved_at, status)
                      VALUES ('D1', 'low_soc', 'warning', 'x', :t, :t, :t, 'resolved')""", t=at)
    scope = Scope(role="manager")
    on_first = alert_views.AlertFilter(statuses=("resolved",), since=date(2026, 12, 1), until=date(2026, 12, 1))
    seen = [a["first_seen_at"].astimezone(IST) for a in alert_views.list_alerts(db, scope, on_first)]
    assert seen == [datetime(2026, 12, 1, 0, 30, tzinfo=IST)]
