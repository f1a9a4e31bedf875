"""`flask --app app users ...`, through Flask's CLI runner on the real app and database."""
from conftest import login
from data import users


def invoke(dash_app, *args, input=None):
    return dash_app.server.test_cli_runner().invoke(args=["users", *args], input=input)


def test_create_list_set_password_disable(dash_app, app_db, client):
    result = invoke(dash_app, "create", "ops.lead", "--role", "manager", "--name", "Ops Lead", "--password-stdin",
                    input="correct-horse-battery\n")
    assert result.exit_code == 0, result.output
    listing = invoke(dash_app, "list").output
    assert "ops.lead" in listing and "manager" in listing
    assert login(client, "ops.lead", "correct-horse-battery").status_code == 302

    assert invoke(dash_app, "set-password", "ops.lead", "--password-stdin", input="another-long-one\n").exit_code == 0
    assert users.find(app_db, "ops.lead") is not None
    assert invoke(dash_app, "disable", "ops.lead").exit_code == 0
    assert not users.find(app_db, "ops.lead").is_active


def test_bad_input_is_one_line(dash_app):
    weak = invoke(dash_app, "create", "weak", "--role", "viewer", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "at least 8 characters" in weak.output
    dealerless = invoke(dash_app, "create", "d9", "--role", "dealer", "--password-stdin", input="long-enough-pw\n")
    assert dealerless.exit_code == 1 and "--dealer CODE" in dealerless.output
    unknown_dealer = invoke(dash_app, "create", "d9", "--role", "dealer", "--dealer", "NOPE", "--password-stdin",
                            input="long-enough-pw\n")
    assert "no dealer with code 'NOPE'" in unknown_dealer.output
    missing = invoke(dash_app, "disable", "ghost")
    assert missing.exit_code == 1 and "no user 'ghost'" in missing.output
    assert "Traceback" not in weak.output + dealerless.output + missing.output


def test_dealer_user_is_bound_to_its_dealer(dash_app, app_db):
    result = invoke(dash_app, "create", "jaipur.desk", "--role", "dealer", "--dealer", "JAI01", "--password-stdin",
                    input="pink-city-desk\n")
    assert result.exit_code == 0, result.output
    assert users.find(app_db, "jaipur.desk").dealer_name == "Pink City EV"


def test_dealer_contacts_set_once_shown_secret_and_refuse_bad_values(dash_app, app_db):
    runner = dash_app.server.test_cli_runner()
    try:
        made = runner.invoke(args=["dealers", "contacts", "JAI01", "--webhook", "https://hooks.jai.example/bfm",
                                   "--emails", "desk@jai.example, owner@jai.example"])
        assert made.exit_code == 0, made.output
        secret = made.output.strip().splitlines()[-1]
        assert len(secret) >= 40 and app_db.scalar("SELECT webhook_secret FROM dealers WHERE code = 'JAI01'") == secret
        again = runner.invoke(args=["dealers", "contacts", "JAI01", "--emails", "desk@jai.example"])
        assert again.exit_code == 0 and secret not in again.output  # shown once
        row = app_db.one("SELECT alert_webhook_url, alert_emails FROM dealers WHERE code = 'JAI01'")
        assert row == {"alert_webhook_url": "https://hooks.jai.example/bfm", "alert_emails": "desk@jai.example"}
        listing = runner.invoke(args=["dealers", "list"]).output
        assert "JAI01" in listing and "hooks.jai.example" in listing and secret not in listing
        for args, message in ((["--webhook", "ftp://x"], "http:// or https://"), (["--emails", "not-an-address"],
                              "not an e-mail address"), ([], "no dealer with code 'NOPE'")):
            code = "NOPE" if not args else "JAI01"
            bad = runner.invoke(args=["dealers", "contacts", code, *args])
            assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output
        assert app_db.one("SELECT alert_emails FROM dealers WHERE code = 'JAI01'")["alert_emails"] == "desk@jai.example"
    finally:
        app_db.execute("UPDATE dealers SET alert_webhook_url = NULL, alert_emails = NULL, webhook_secret = NULL "
                       "WHERE code = 'JAI01'")
