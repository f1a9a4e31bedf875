"""The app shell: a top bar with navigation built from the page registry, the page container, and
the live toasts every page carries (components/toasts.py; the wall too, whose top bar CSS hides)."""
from __future__ import annotations

from dash import dcc, html, page_container

from components.toasts import create_live_parts


def create_nav(links: list[tuple[str, str]]) -> html.Nav:
    """``links`` are (label, path) pairs, already filtered to what the user may open."""
    return html.Nav(className="nav", children=[
        dcc.Link(label, href=path, className="nav-link", id=f"nav-{path.strip('/') or 'home'}")
        for label, path in links
    ])


def create_user_badge(display_name: str, role: str, dealer: str | None) -> html.Div:
    scope = f" · {dealer}" if dealer else ""
    return html.Div(className="user-badge", children=[
        dcc.Link(display_name, href="/profile", className="user-name", id="profile-link",
                 title="Change your password"),
        html.Span(f"{role}{scope}", className="user-role"),
        html.A("Sign out", href="/logout", className="logout-link", id="logout-link"),
    ])


def create_shell(links: list[tuple[str, str]], user_badge, chrome: bool = True, search=None) -> html.Div:
    header = html.Header(className="topbar", children=[
        html.Div(className="brand", children=[html.Span("⚡", className="brand-mark"), "Battery Fleet Monitor"]),
        create_nav(links),
        search,
        user_badge,
    ]) if chrome else None
    return html.Div(className="shell" if chrome else "shell shell-bare", children=[
        header,
        html.Main(page_container, className="page"),
        create_live_parts(),
    ])
