"""``flask --app app users create|list|set-password|disable|enable``: user administration.
``flask --app app apikeys create|list|revoke``: API keys for scripts and integrations.
``flask --app app dealers contacts CODE --webhook URL --emails a,b | list``: dealers' alert contacts.
``flask --app app rul refresh|train|models``: battery health ledger, forecasts and fade-model versions.
``flask --app app reports recipients add|remove|list``, ``reports send``: the daily fleet health report.
``flask --app app devices import FILE [--dry-run] | template``: device mappings in bulk.
``flask --app app sites|equipment import FILE [--dry-run] | template``: sites and their equipment in bulk."""
from __future__ import annotations

import dataclasses
import getpass
import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup

import config
from data import apikeys, contacts, device_import, energy, imports, site_import, users
from data.db import Database
from data.scope import Scope
from ingest import history_import


def _password(read_stdin: bool) -> str:
    if read_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def register(server: Flask, db: Database) -> None:
    group = AppGroup("users", help="Manage the people who can sign in.")

    def run(action):
        try:
            action()
        except users.UserError as exc:
            raise click.ClickException(str(exc)) from None

    @group.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(apikeys.KEY_ROLES), required=True,
                  help="ingest: may only push data (/api/v1/ingest/..., /api/v1/telemetry)")
    @click.option("--dealer", "dealer_code", help="Dealer code (dealer users only).")
    @click.option("--name", "display_name", help="Name shown in the app.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def create(username, role, dealer_code, display_name, password_stdin):
        password = _password(password_stdin)
        run(lambda: users.create(db, username, password, role, dealer_code=dealer_code, display_name=display_name))
        click.echo(f"created {username} ({role})")

    @group.command("list")
    def list_users():
        rows = users.list_all(db)
        click.echo(f"{'username':<16} {'role':<9} {'dealer':<24} {'active':<6} last login")
        for u in rows:
            last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
            click.echo(f"{u.username:<16} {u.role:<9} {(u.dealer_name or '-'):<24} {'yes' if u.is_active else 'no':<6} {last}")

    @group.command("set-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def set_password(username, password_stdin):
        password = _password(password_stdin)
        run(lambda: users.set_password(db, username, password))
        click.echo(f"password changed for {username}")

    @group.command("disable")
    @click.argument("username")
    def disable(username):
        run(lambda: users.set_active(db, username, False))
        click.echo(f"disabled {username}")

    @group.command("enable")
    @click.argument("username")
    def enable(username):
        run(lambda: users.set_active(db, username, True))
        click.echo(f"enabled {username}")

    server.cli.add_command(group)
    server.cli.add_command(_apikeys_group(db))
    server.cli.add_command(_dealers_group(db))
    server.cli.add_command(_devices_group(db))
    server.cli.add_command(_site_import_group(db, "sites", "Sites (showrooms, charging hubs, depots) in bulk."))
    server.cli.add_command(_site_import_group(db, "equipment", "Equipment at the sites in bulk (import sites first)."))
    server.cli.add_command(_rul_group(db))
    server.cli.add_command(_reports_group(db))
    server.cli.add_command(_telemetry_group(db))
    server.cli.add_command(_meters_group(db))


def _apikeys_group(db: Database) -> AppGroup:
    group = AppGroup("apikeys", help="Manage API keys (Authorization: Bearer <key> under /api/).")

    def run(action):
        try:
            return action()
        except apikeys.ApiKeyError as exc:
            raise click.ClickException(str(exc)) from None

    @group.command("create")
    @click.argument("name")
    @click.option("--role", type=click.Choice(apikeys.KEY_ROLES), required=True,
                  help="ingest: may only push data (/api/v1/ingest/..., /api/v1/telemetry)")
    @click.option("--dealer", "dealer_code", help="Dealer code (dealer keys only).")
    def create(name, role, dealer_code):
        key = run(lambda: apikeys.create(db, name, role, dealer_code))
        click.echo(f"created API key {name} ({role}{', ' + dealer_code if dealer_code else ''}); "
                   "store it now, it is not shown again:", err=True)
        click.echo(key)  # alone on standard output, so a script can capture it

    @group.command("list")
    def list_keys():
        click.echo(f"{'name':<24} {'role':<9} {'dealer':<8} {'created':<16} {'last used':<16} state")
        for k in apikeys.list_all(db):
            def when(t):
                return t.strftime("%Y-%m-%d %H:%M") if t else "never"
            state = f"revoked {when(k['revoked_at'])}" if k["revoked_at"] else "active"
            click.echo(f"{k['name']:<24} {k['role']:<9} {(k['dealer'] or '-'):<8} {when(k['created_at']):<16} "
                       f"{when(k['last_used_at']):<16} {state}")

    @group.command("revoke")
    @click.argument("name")
    def revoke(name):
        run(lambda: apikeys.revoke(db, name))
        click.echo(f"revoked {name}")

    return group


def _report_import(judge, path: str) -> None:
    """Read ``path``, judge and apply it with ``judge(frame_reader)``, print a line per row and the
    summary; exit status 1 when any row was refused."""
    with open(path, "rb") as handle:
        data = handle.read(config.get().import_max_bytes + 1)
    try:
        result = judge(data)
    except imports.ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    for row in result.rows:
        click.echo(f"line {row.line:<5} {row.key or '-':<24} {row.status:<9} {row.message}".rstrip())
    click.echo(result.summary())
    if result.counts()["error"]:
        sys.exit(1)


def _cli_scope() -> Scope:
    return Scope(role="admin", actor=f"cli:{getpass.getuser()}")


def _devices_group(db: Database) -> AppGroup:
    group = AppGroup("devices", help="Device mappings (device, battery, vehicle, dealer, customer, site).")

    @group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Judge every row and write nothing.")
    def import_devices(path, dry_run):
        """Import mappings from a CSV or XLSX file: valid rows applied, each invalid row reported with
        its line number (exit status 1 when any row was refused)."""
        limit = config.get().import_max_bytes
        _report_import(lambda data: device_import.run(db, _cli_scope(), device_import.read_file(path, data, limit),
                                                      dry_run=dry_run), path)

    @group.command("template")
    def template():
        """Print the import template (CSV) with one example row."""
        click.echo(device_import.template_csv(), nl=False)

    return group


def _site_import_group(db: Database, kind: str, help_text: str) -> AppGroup:
    group = AppGroup(kind, help=help_text)

    @group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Judge every row and write nothing.")
    def import_rows(path, dry_run):
        """Import from a CSV or XLSX file: valid rows applied, each invalid row reported with its line
        number (exit status 1 when any row was refused)."""
        limit = config.get().import_max_bytes
        _report_import(lambda data: site_import.run(db, _cli_scope(), kind,
                                                    site_import.read_file(kind, path, data, limit), dry_run=dry_run),
                       path)

    @group.command("template")
    def template():
        """Print the import template (CSV) with one example row."""
        click.echo(site_import.template_csv(kind), nl=False)

    return group


def _telemetry_group(db: Database) -> AppGroup:
    group = AppGroup("telemetry", help="Telemetry history: import vendor or our own exports.")

    @group.command("import")
    @click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
    @click.option("--stream", type=click.Choice(history_import.IMPORT_STREAMS),
                  help="What the files hold (default: told by the columns: GPS if lat/latitude, else battery).")
    @click.option("--restart", is_flag=True, help="Import a file again from its first row.")
    def import_files(files, stream, restart):
        """Load CSV/XLSX history through the ingest path; an interrupted import resumes where it stopped."""
        from tqdm import tqdm

        failed = False
        for path in files:
            with tqdm(total=0, unit="row", desc=os.path.basename(path), leave=False) as bar:
                def progress(done, total, bar=bar):
                    bar.total = max(total, done)
                    bar.n = done
                    bar.refresh()
                try:
                    summary = history_import.import_file(db, path, stream, restart, progress)
                except history_import.HistoryFileError as exc:
                    click.echo(f"error: {exc}", err=True)
                    failed = True
                    continue
                except KeyboardInterrupt:
                    click.echo(f"\ninterrupted in {path}: run the same command again to carry on from the last "
                               "batch written", err=True)
                    raise SystemExit(130) from None
            click.echo(summary.line())
            for line in summary.first_errors:
                click.echo(f"  {line}")
            if summary.rejected > len(summary.first_errors):
                click.echo(f"  … and {summary.rejected - len(summary.first_errors):,} more rejected rows "
                           "(kept with their reasons: /data-health)")
        if failed:
            raise SystemExit(1)

    return group


def _when(value: str, option: str):
    """A time from the command line: ISO 8601, a date alone is IST midnight, no zone is IST."""
    from datetime import datetime, timedelta, timezone

    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date or an ISO 8601 time", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone(timedelta(hours=5, minutes=30)))


def _meters_group(db: Database) -> AppGroup:
    group = AppGroup("meters", help="Which vehicle charges on which energy meter, and when (the AC side of efficiency).")

    def run(action):
        try:
            return action()
        except energy.AssignmentError as exc:
            raise click.ClickException(str(exc)) from None

    @group.command("assign")
    @click.argument("meter")
    @click.argument("vehicle")
    @click.option("--from", "since", required=True, help="From (ISO date or time; no zone: IST).")
    @click.option("--to", "until", help="Until (open-ended if left out).")
    def assign(meter, vehicle, since, until):
        new_id = run(lambda: energy.assign(db, _cli_scope(), meter, vehicle, _when(since, "--from"),
                                           _when(until, "--to") if until else None))
        click.echo(f"assignment {new_id}: {vehicle} charges on {meter}")

    @group.command("end")
    @click.argument("assignment_id", type=int)
    @click.option("--at", "at", required=True, help="When it ended (ISO date or time; no zone: IST).")
    def end(assignment_id, at):
        run(lambda: energy.end_assignment(db, _cli_scope(), assignment_id, _when(at, "--at")))
        click.echo(f"assignment {assignment_id} ended")

    @group.command("list")
    @click.option("--meter", help="Only this meter (serial).")
    @click.option("--vehicle", help="Only this vehicle (number or device id).")
    def list_assignments(meter, vehicle):
        click.echo(f"{'id':>6} {'meter':<30} {'site':<14} {'vehicle':<14} {'from':<16} until")
        for a in energy.assignments(db, meter, vehicle):
            until = f"{a['valid_to']:%Y-%m-%d %H:%M}" if a["valid_to"] else "-"
            click.echo(f"{a['id']:>6} {a['meter']:<30} {a['site']:<14} {(a['vehicle_number'] or a['device_id']):<14} "
                       f"{a['valid_from']:%Y-%m-%d %H:%M} {until}")

    return group


def _dealers_group(db: Database) -> AppGroup:
    group = AppGroup("dealers", help="Dealers' own alert contacts (their alerts also go there).")

    @group.command("contacts")
    @click.argument("code")
    @click.option("--webhook", help="URL that receives the dealer's alerts as signed JSON (empty to clear).")
    @click.option("--emails", help="Comma-separated addresses for the dealer's alerts (empty to clear).")
    @click.option("--new-secret", is_flag=True, help="Replace the webhook signing secret.")
    def set_contacts(code, webhook, emails, new_secret):
        current = next((c for c in contacts.list_contacts(db) if c["code"] == code), None)
        if current is None:
            raise click.ClickException(f"no dealer with code {code!r}")
        webhook = current["alert_webhook_url"] if webhook is None else webhook
        emails = current["alert_emails"] if emails is None else emails
        try:
            secret = contacts.set_contacts(db, code, webhook, emails, new_secret)
        except contacts.ContactError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{code}: webhook {webhook or '-'}, e-mail {emails or '-'}")
        if secret:
            click.echo("webhook signing secret (store it in the receiver now; it is not shown again):", err=True)
            click.echo(secret)

    @group.command("list")
    def list_dealers():
        click.echo(f"{'code':<8} {'webhook':<40} {'signed':<6} e-mail")
        for c in contacts.list_contacts(db):
            click.echo(f"{c['code']:<8} {(c['alert_webhook_url'] or '-')[:40]:<40} "
                       f"{'yes' if c['signed'] else 'no':<6} {c['alert_emails'] or '-'}")

    return group


def _rul_group(db: Database) -> AppGroup:
    group = AppGroup("rul", help="Battery health: SOH ledger, end-of-life forecasts, fade-model versions.")

    @group.command("refresh")
    @click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
    def refresh(devices):
        """Recompute the ledger up to today, every forecast and the dealer scores now."""
        import config
        from ingest import health
        done = health.refresh(db, config.get(), device_ids=list(devices) or None, include_today=True)
        click.echo(done.line())

    @group.command("train")
    @click.option("--packs", default=40, show_default=True, help="Simulated packs to observe over their whole lives.")
    @click.option("--seed", default=8, show_default=True, help="Which simulated fleet (demo.fleet seed).")
    @click.option("--every", default=7, show_default=True, help="Simulate every n-th day of a life.")
    @click.option("--activate/--no-activate", default=True, show_default=True,
                  help="Make the new version the one forecasts use.")
    def train(packs, seed, every, activate):
        """Fit the fade model's population parameters on simulated whole lives with known truth and
        keep them as a model version with their error (a minute or two for 40 packs)."""
        import config
        from analytics import fade
        from data import health_store
        from ingest.simulator import lifetimes
        eol = config.get().eol_soh
        histories = lifetimes.histories(packs, seed, every, eol)
        params, error = fade.train(histories, eol_soh=eol)
        params = dataclasses.replace(params, trained_on=f"{len(histories)} simulated whole-life pack histories "
                                                        f"(demo.fleet size {packs} seed {seed}, every {every}th day)")
        health_store.save_model(db, params.version, "fade (Bayesian, population prior)", params.trained_on,
                                dataclasses.asdict(params), error, activate=activate)
        mid = error.get("backtest", {}).get("0.5", {})
        click.echo(f"{params.version}: trained on {len(histories)} packs; backtest at mid-life: median error "
                   f"{mid.get('median_error_pct')} %, band coverage {mid.get('coverage_pct')} %"
                   + (" (active)" if activate else ""))

    @group.command("models")
    def models():
        from data import health_store
        click.echo(f"{'version':<22} {'kind':<36} {'trained':<17} {'active':<6} error")
        for m in health_store.models(db):
            click.echo(f"{m['version']:<22} {m['kind']:<36} {m['trained_at']:%Y-%m-%d %H:%M} "
                       f"{'yes' if m['is_active'] else 'no':<6} {m['error'] or '-'}")

    return group


def _reports_group(db: Database) -> AppGroup:
    group = AppGroup("reports", help="The daily fleet health report: recipients, and sending it now.")
    recipients = AppGroup("recipients", help="Who gets the report (a dealer recipient: its own dealer's only).")
    group.add_command(recipients)

    @recipients.command("add")
    @click.argument("email")
    @click.option("--dealer", "dealer_code", default=None, help="Dealer code: send this dealer's report only.")
    def add(email, dealer_code):
        from data import health_reports
        if "@" not in email or len(email) > 254:
            raise click.ClickException(f"not an e-mail address: {email!r}")
        if not health_reports.add_recipient(db, email.strip(), dealer_code):
            raise click.ClickException(f"no dealer with code {dealer_code!r}")
        click.echo(f"{email} gets the {'report of ' + dealer_code if dealer_code else 'whole-fleet report'}")

    @recipients.command("remove")
    @click.argument("email")
    @click.option("--dealer", "dealer_code", default=None)
    def remove(email, dealer_code):
        from data import health_reports
        if not health_reports.remove_recipient(db, email.strip(), dealer_code):
            raise click.ClickException(f"{email} is not a recipient{' for ' + dealer_code if dealer_code else ''}")
        click.echo(f"{email} removed")

    @recipients.command("list")
    def list_recipients():
        from data import health_reports
        for r in health_reports.recipients(db):
            click.echo(f"{r['email']:<40} {r['dealer_code'] or 'whole fleet'}")

    @group.command("send")
    def send():
        """Make today's reports now (whole fleet and one per dealer recipient), store and e-mail them."""
        from datetime import datetime, timezone
        import config
        from ingest import report_jobs
        made = report_jobs.daily_report(db, config.get(), datetime.now(timezone.utc), force=True)
        click.echo(f"{made} reports made" if made else "today's reports exist already (see the health page)")

    return group
