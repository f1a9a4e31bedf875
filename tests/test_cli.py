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
