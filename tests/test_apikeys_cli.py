"""`flask --app app apikeys ...`, through Flask's CLI runner on the real app and database, and the
keys it prints used against the real API."""
import pytest

from data import apikeys


def invoke(dash_app, *args):
    return dash_app.server.test_cli_runner().invoke(args=["apikeys", *args])


@pytest.fixture
def cleanup(app_db):
    yield
    app_db.execute("DELETE FROM api_keys WHERE name LIKE 'cli-%'")


def _alerts(dash_app, key):
    return dash_app.server.test_client().get("/api/v1/alerts?limit=500",
                                             headers={"Authorization": f"Bearer {key}"})


def test_create_prints_the_key_once_and_it_works(dash_app, app_db, cleanup):
    result = invoke(dash_app, "create", "cli-n8n", "--role", "engineer")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith(apikeys.PREFIX) and "\n" not in key  # alone on stdout, so a script can capture it
    assert "not shown again" in result.stderr
    row = app_db.one("SELECT * FROM api_keys WHERE name = 'cli-n8n'")
    assert row["role"] == "engineer" and row["dealer_id"] is None
    assert key not in str(row) and row["key_hash"] != key  # only its hash is kept
    assert _alerts(dash_app, key).status_code == 200

    listing = invoke(dash_app, "list")
    assert listing.exit_code == 0
    line = next(ln for ln in listing.output.splitlines() if ln.startswith("cli-n8n "))
    assert "engineer" in line and line.endswith("active") and key not in listing.output


def test_dealer_key_is_bound_to_its_dealer(dash_app, app_db, cleanup):
    result = invoke(dash_app, "create", "cli-delhi", "--role", "dealer", "--dealer", "DEL01")
    assert result.exit_code == 0, result.output
    shown = _alerts(dash_app, result.stdout.strip()).get_json()["alerts"]
    assert shown and {a["dealer_code"] for a in shown} == {"DEL01"}
    line = next(ln for ln in invoke(dash_app, "list").output.splitlines() if ln.startswith("cli-delhi "))
    assert "dealer" in line and "DEL01" in line


def test_revoke(dash_app, app_db, cleanup):
    key = invoke(dash_app, "create", "cli-old", "--role", "viewer").stdout.strip()
    assert _alerts(dash_app, key).status_code == 200
    result = invoke(dash_app, "revoke", "cli-old")
    assert result.exit_code == 0 and "revoked cli-old" in result.output
    assert _alerts(dash_app, key).status_code == 401
    line = next(ln for ln in invoke(dash_app, "list").output.splitlines() if ln.startswith("cli-old "))
    assert "revoked" in line
    again = invoke(dash_app, "revoke", "cli-old")
    assert again.exit_code == 1 and "no active API key named 'cli-old'" in again.output


@pytest.mark.parametrize("args, message", [
    (("create", "cli-d", "--role", "dealer"), "a dealer key needs --dealer CODE"),
    (("create", "cli-d", "--role", "dealer", "--dealer", "NOPE"), "no dealer with code 'NOPE'"),
    (("create", "cli-m", "--role", "manager", "--dealer", "DEL01"), "only dealer keys belong to a dealer"),
    (("create", "bad name!", "--role", "viewer"), "name: letters, digits"),
    (("create", "x" * 65, "--role", "viewer"), "name: letters, digits"),
    (("revoke", "cli-ghost"), "no active API key named 'cli-ghost'"),
])
def test_bad_input_is_one_line(dash_app, app_db, cleanup, args, message):
    result = invoke(dash_app, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not app_db.scalar("SELECT count(*) FROM api_keys WHERE name LIKE 'cli-%'")


def test_duplicate_name_and_unknown_role(dash_app, app_db, cleanup):
    assert invoke(dash_app, "create", "cli-dup", "--role", "viewer").exit_code == 0
    dup = invoke(dash_app, "create", "cli-dup", "--role", "admin")
    assert dup.exit_code == 1 and "an API key named 'cli-dup' exists already" in dup.output
    assert app_db.scalar("SELECT role FROM api_keys WHERE name = 'cli-dup'") == "viewer"
    role = invoke(dash_app, "create", "cli-root", "--role", "root")
    assert role.exit_code == 2 and "Invalid value for '--role'" in role.output and "Traceback" not in role.output
