"""``flask --app app users create|list|set-password|disable|enable``: user administration."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from data import users
from data.db import Database


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
    @click.option("--role", type=click.Choice(users.ROLES), required=True)
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
