"""Settings: every bad value stops with one readable line."""
import pytest

import config


def test_defaults_are_sane():
    s = config.load({"DEMO_MODE": "1"})
    assert s.port == 8050 and s.retention_days == 180 and s.embedded_database
    assert s.intellicar_calls_per_second == 3.0 and s.intellicar_min_interval_ms == 400


@pytest.mark.parametrize("env, fragment", [
    ({"PORT": "eighty"}, "PORT must be a whole number"),
    ({"PORT": "70000"}, "PORT must be at most 65535"),
    ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS must be at least 1"),
    ({"DEMO_MODE": "maybe"}, "DEMO_MODE must be true or false"),
    ({"STORAGE_MODE": "influx"}, "STORAGE_MODE must be one of"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be a PostgreSQL URL"),
    ({"INTELLICAR_CALLS_PER_SECOND": "fast"}, "INTELLICAR_CALLS_PER_SECOND must be a number"),
])
def test_bad_settings_are_one_line(env, fragment):
    with pytest.raises(config.ConfigError) as err:
        config.load(env)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_secret_key_required_and_strong_outside_demo():
    with pytest.raises(config.ConfigError, match="SECRET_KEY is required"):
        config.check_secret_key(config.load({}))
    with pytest.raises(config.ConfigError, match="too weak"):
        config.check_secret_key(config.load({"SECRET_KEY": "changeme"}))
    config.check_secret_key(config.load({"SECRET_KEY": "x" * 40}))
    config.check_secret_key(config.load({"DEMO_MODE": "1"}))


def test_heroku_style_url_is_accepted():
    assert config.load({"DATABASE_URL": "postgres://u:p@h/db"}).database_url == "postgresql://u:p@h/db"
