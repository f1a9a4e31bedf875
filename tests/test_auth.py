"""The guard, sign-in, throttling and demo-only passwords, through real HTTP requests to the app."""
import json

import pytest
from flask import Flask

import auth
import config
from conftest import login
from data import users

DASH_UPDATE = {"output": "overview-kpis.children", "outputs": {"id": "overview-kpis", "property": "children"},
               "inputs": [{"id": "overview-refresh", "property": "n_intervals", "value": None},
                          *({"id": f"overview-{f}", "property": "value", "value": None}
                            for f in ("dealer", "city", "status"))],
               "changedPropIds": []}


def test_anonymous_page_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")
    assert client.get("/battery/TK-51100-0001").status_code == 302


@pytest.mark.parametrize("method, path", [
    ("get", "/_dash-layout"), ("get", "/_dash-dependencies"), ("post", "/_dash-update-component"),
    ("get", "/api/v1/anything"),
])
def test_anonymous_dash_endpoints_get_401(client, method, path):
    response = getattr(client, method)(path, json=DASH_UPDATE if method == "post" else None)
    assert response.status_code == 401
    assert b"overview-kpis" not in response.data


def test_login_page_and_static_are_public(client):
    assert client.get("/login").status_code == 200
    assert client.get("/assets/login.css").status_code == 200


def test_admin_signs_in_and_sees_counts(client, app_db):
    response = login(client, "admin")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout").get_json()
    assert "Asha Admin" in json.dumps(layout)
    update = client.post("/_dash-update-component", json=DASH_UPDATE)
    assert update.status_code == 200
    body = json.dumps(update.get_json())
    devices = app_db.scalar("SELECT count(*) FROM devices WHERE is_active")
    assert f'"{devices:,}"' in body


def test_dealer_counts_are_scoped(client, app_db):
    login(client, "dealer1")
    body = json.dumps(client.post("/_dash-update-component", json=DASH_UPDATE).get_json())
    own = app_db.scalar("""SELECT count(*) FROM devices d JOIN dealers x ON x.id = d.dealer_id
                           WHERE x.code = 'LKO01' AND d.is_active""")
    total = app_db.scalar("SELECT count(*) FROM devices")
    assert own < total
    assert f'"{own:,}"' in body and f"of {total:,} registered" not in body


def test_wrong_password(client):
    response = login(client, "admin", "not-the-password")
    assert response.status_code == 401
    assert b"Wrong username or password." in response.data
    assert b"Traceback" not in response.data


def test_open_redirect_is_refused(client):
    page = client.get("/login?next=https://evil.example/")
    token = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login?next=https://evil.example/",
                           data={"csrf": token, "username": "admin", "password": "demo"})
    assert response.headers["Location"] == "/"


def test_missing_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "admin", "password": "demo"})
    assert response.status_code == 400


def test_repeated_failures_are_throttled(client, app_db):
    settings = config.get()
    for _ in range(settings.login_max_failures):
        assert login(client, "manager", "guess").status_code == 401
    response = login(client, "manager", "demo")  # even the right password waits out the lockout
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.data


def test_disabled_user_is_refused_and_loses_session(client, app_db):
    users.create(app_db, "temp.engineer", "a-long-password", "engineer")
    other = client.application.test_client()
    assert login(other, "temp.engineer", "a-long-password").status_code == 302
    assert other.get("/").status_code == 200
    users.set_active(app_db, "temp.engineer", False)
    assert other.get("/").status_code == 302  # the live session ends too
    response = login(client, "temp.engineer", "a-long-password")
    assert response.status_code == 403 and b"disabled" in response.data


def test_demo_password_only_in_demo_mode(app_db):
    """A production app (DEMO_MODE off) built from the same auth code refuses demo accounts."""
    server = Flask("production-check")
    server.config["SECRET_KEY"] = "p" * 40
    settings = config.load({"SECRET_KEY": "p" * 40, "DEMO_MODE": "0"})
    auth.init(server, app_db, settings)
    app_db.execute("DELETE FROM login_failures")
    c = server.test_client()
    response = login(c, "admin", "demo")
    assert response.status_code == 403
    assert b"Demo accounts work only in demo mode." in response.data


def test_head_requests_answer_like_get(client):
    """Load balancers and uptime probes send HEAD: the sign-in page must not take it for a sign-in."""
    assert client.head("/login").status_code == 200
    assert client.head("/healthz").status_code == 200
    assert client.head("/").status_code == 302
