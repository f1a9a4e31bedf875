"""Every server callback, as a dealer, fed every hostile value the browser could send in each input.

For each callback (the test fails if the app has one it does not cover) and each of its inputs and
states in turn, the ordinary values are replaced by wrong JSON types, huge numbers, NUL characters,
10 kB strings and path tricks. Any 5xx, or a traceback in the body, fails.
"""
from __future__ import annotations

import pytest

from conftest import login
from test_authorization import _cases, _covered, _payload, fleet_ids  # noqa: F401 (fixture)

HOSTILE = [
    None, True, False, 0, -1, 2**31, -2**63, -2**63 - 1, 2**63, 2**64, 1e308, -1e308, 0.5,
    "", " ", "\x00", "a\x00b", "Lucknow\x00", "x" * 10_240, "é" * 5000, "' OR 1=1 --", "../../etc/passwd",
    "/battery/\x00", "battery/DEV", "//evil.example/x", "%00", "\ud7ff",
    [], [1, "a"], ["/"], {}, {"a": 1}, {"pathname": "/"}, [[[]]],
]


def _hostile_calls(app, ids):
    for key, values_list in _covered(app, _cases(ids)).items():
        base = values_list[0]
        spec = app.callback_map[key]
        for item in [*spec["inputs"], *spec.get("state", [])]:
            name = f"{item['id']}.{item['property']}"
            for bad in HOSTILE:
                yield key, name, bad, dict(base, **{name: bad})


@pytest.mark.parametrize("role", ["dealer1", "manager"])
def test_no_callback_answers_5xx_to_hostile_input(dash_app, client, fleet_ids, role):
    assert login(client, role).status_code == 302
    failures, calls = [], 0
    for key, name, bad, values in _hostile_calls(dash_app, fleet_ids):
        response = client.post("/_dash-update-component", json=_payload(dash_app, key, values))
        calls += 1
        body = response.get_data(as_text=True)
        if response.status_code >= 500 or "Traceback" in body:
            failures.append((key, name, repr(bad)[:40], response.status_code))
    assert calls > 500
    assert not failures, f"{len(failures)} of {calls} hostile calls failed, e.g. {failures[:12]}"


@pytest.mark.parametrize("path", ["/battery/\x00", "/battery/a%00b", "/battery/" + "x" * 10_240, "/%00",
                                  "/battery/%ff%fe", "/wall?x=%00", "/?city=%00"])
def test_no_route_answers_5xx_to_hostile_paths(client, path):
    login(client, "dealer1")
    response = client.get(path)
    assert response.status_code < 500, (path, response.status_code)
