"""Charging energy (/energy): AC at the meters against DC into the packs, by site, charger, vehicle and
dealer over 7, 30 or 90 days; the losses in kWh and in rupees at the tariff setting; the meters that
count energy with no vehicle charging; and the charging sessions, filtered and exported.

Every callback reads the scope on the server and data.energy applies it in SQL. The filters only
narrow: a site the browser names is looked up again within the user's scope (data.sites.one), so a
dealer naming another dealer's site gets a message and no rows; the dealer grouping is for
whole-fleet roles only.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import dash
from dash import Input, Output, State, callback, ctx, dcc, html

import config
import inputs
from auth import current_scope
from components import energy_page as page
from components.export import table_file
from data import energy, sites
from data.db import get_db
from data.scope import Scope
from ingest.readings import IST

dash.register_page(__name__, path="/energy", name="Energy", title="Charging energy", nav_order=4.5)

PERIOD = Input("energy-period", "value")
REFRESH = Input("energy-refresh", "n_intervals")
FILTER_IDS = (("energy-site", "value"), ("energy-flag", "value"), ("energy-vehicle", "value"),
              ("energy-dates", "start_date"), ("energy-dates", "end_date"))
FILTER_INPUTS = [Input(i, p) for i, p in FILTER_IDS]
FILTER_STATES = [State(i, p) for i, p in FILTER_IDS]
REFRESH_MS = 300_000     # sessions are reconciled against the meters every few minutes
EARLIEST = date(2000, 1, 1)


def layout(**_query):
    scope = current_scope()
    today = datetime.now(IST).date()
    return html.Div(className="energy-page", children=[
        html.Div(className="page-head", children=[html.H1("Charging energy", className="page-title"),
                                                  page.create_period_picker()]),
        dcc.Interval(id="energy-refresh", interval=REFRESH_MS),
        *page.create_energy_layout(sites.options(get_db(), scope), scope.whole_fleet, today),
    ])


def _window(period) -> page.Window:
    """The period's IST days, today included."""
    days = page.PERIODS[inputs.choice(period, page.PERIODS, page.DEFAULT_PERIOD)]
    today = datetime.now(IST).date()
    return page.Window(days, today - timedelta(days=days - 1), today)


def _limits() -> dict:
    return energy.thresholds(get_db())


@callback(Output("energy-kpis", "children"), PERIOD, REFRESH)
def update_kpis(period, _n):
    scope = current_scope()
    w, tariff = _window(period), config.get().tariff_inr_per_kwh
    return page.create_energy_kpis(energy.totals(get_db(), scope, w.start, w.end, tariff), tariff, _limits(), w.days)


@callback(Output("energy-trend", "children"), Output("energy-trend-note", "children"), PERIOD,
          Input("energy-trend-group", "value"), REFRESH)
def update_trend(period, group, _n):
    scope = current_scope()
    db, w = get_db(), _window(period)
    group = inputs.choice(group, page.TREND_GROUPS, "site")
    by_site = energy.daily_efficiency(db, scope, "site", w.start, w.end)
    if by_site.empty:
        return page.create_trend(None, w.days), ""
    ranking = energy.efficiency_by(db, scope, group, w.start, w.end, config.get().tariff_inr_per_kwh)
    ranked = ranking[ranking["key"].notna() & ranking["efficiency"].notna()]
    keys = page.worst_keys(ranking, page.overall_efficiency(ranking))
    if group == "site" and len(keys) == len(ranked):
        daily = by_site
    elif keys:
        daily = energy.daily_efficiency(db, scope, group, w.start, w.end, keys=keys)
    else:
        daily = by_site.iloc[0:0]
    daily = daily[daily["key"].isin(keys)]
    figure = page.efficiency_figure(daily, page.fleet_daily(by_site), _limits(),
                                    "Fleet" if scope.whole_fleet else "Your vehicles", order=keys)
    return page.create_trend(figure, w.days), page.trend_note(group, len(keys), len(ranked), scope.whole_fleet)


def _rank_group(scope: Scope, group) -> str:
    return inputs.choice(group, page.RANK_GROUPS if scope.whole_fleet else page.TREND_GROUPS, "site")


@callback(Output("energy-ranking", "children"), PERIOD, Input("energy-rank-group", "value"), REFRESH)
def update_ranking(period, group, _n):
    scope = current_scope()
    w, group = _window(period), _rank_group(scope, group)
    frame = energy.efficiency_by(get_db(), scope, group, w.start, w.end, config.get().tariff_inr_per_kwh)
    return page.create_ranking(frame, group, w.days)


@callback(Output("energy-unattributed", "children"), PERIOD, REFRESH)
def update_unattributed(period, _n):
    scope = current_scope()
    w = _window(period)
    return page.create_unattributed_table(energy.unattributed(get_db(), scope, w.start, w.end),
                                          config.get().tariff_inr_per_kwh, w.days)


@callback(Output("energy-dates", "start_date"), Output("energy-dates", "end_date"), PERIOD, prevent_initial_call=True)
def follow_period(period):
    """A new period moves the sessions' days with it; the user may narrow them again after."""
    current_scope()   # signed in, like every callback; nothing here is read from the database
    w = _window(period)
    return w.first.isoformat(), w.last.isoformat()


# -- the sessions ---------------------------------------------------------------------------------------
def _read_sessions(db, scope: Scope, filt: page.SessionFilter, limit: int):
    return energy.sessions(db, scope, filt.start, filt.end, site_id=filt.site_id, flag=filt.flag, device=filt.device,
                           limit=limit)


def _session_filter(db, scope: Scope, site, flag, vehicle, since, until) -> tuple[page.SessionFilter | None, str]:
    """The session filters cleaned, or None and what is wrong with them in words. Never echoes the site
    the browser sent: it may be another dealer's."""
    problems = []
    site_id = None
    if site not in (None, ""):
        code = sites.code_key(inputs.text(site, 32))
        row = sites.one(db, scope, code) if code else None
        if row is None:
            problems.append("That site is not one of yours: choose a site from the list.")
        else:
            site_id = row["id"]
    chosen = inputs.choice(flag, page.FLAG_CHOICES, None if flag not in (None, "") else "all")
    if chosen is None:
        problems.append("Choose the flag from the list.")
    device = inputs.text(vehicle, page.MAX_VEHICLE_TEXT)
    if device is None and not (vehicle is None or (isinstance(vehicle, str) and not vehicle.strip())):
        problems.append(f"The vehicle search takes up to {page.MAX_VEHICLE_TEXT} printable characters.")
    first, last = inputs.date_range(since, until, problems)
    if problems:
        return None, " ".join(problems)
    return page.SessionFilter(first=first or EARLIEST, last=last or datetime.now(IST).date(),
                              site_id=site_id, flag=None if chosen == "all" else chosen, device=device), ""


@callback(Output("energy-sessions-grid", "rowData"), Output("energy-sessions-count", "children"),
          Output("energy-sessions-message", "children"), Output("energy-sessions-box", "className"),
          Output("energy-sessions-empty", "children"), *FILTER_INPUTS, REFRESH)
def update_sessions(site, flag, vehicle, since, until, _n):
    scope = current_scope()
    db = get_db()
    filt, problem = _session_filter(db, scope, site, flag, vehicle, since, until)
    if filt is None:
        return [], "", problem, "energy-grid-box hidden", None
    frame = _read_sessions(db, scope, filt, page.SESSIONS_SHOWN + 1)
    if frame.empty:
        return [], "", "", "energy-grid-box hidden", page.sessions_empty(filt.narrowed)
    rows = page.session_rows(frame)
    return rows, page.sessions_count(len(rows), len(frame) > len(rows)), "", "energy-grid-box", None


# -- the files ------------------------------------------------------------------------------------------
def _kind() -> str | None:
    return inputs.choice((ctx.triggered_id or "").rsplit("-", 1)[-1], ("csv", "xlsx"))


@callback(Output("energy-ranking-download", "data"), Input("energy-ranking-export-csv", "n_clicks"),
          Input("energy-ranking-export-xlsx", "n_clicks"), State("energy-period", "value"),
          State("energy-rank-group", "value"), prevent_initial_call=True)
def export_ranking(_csv, _xlsx, period, group):
    scope = current_scope()
    kind = _kind()
    if kind is None:
        return dash.no_update
    w, group, tariff = _window(period), _rank_group(scope, group), config.get().tariff_inr_per_kwh
    frame = energy.efficiency_by(get_db(), scope, group, w.start, w.end, tariff)
    return table_file(page.ranking_frame(frame, group, tariff, w.first, w.last), kind, f"charging-efficiency-by-{group}")


@callback(Output("energy-unattributed-download", "data"), Input("energy-unattributed-export-csv", "n_clicks"),
          Input("energy-unattributed-export-xlsx", "n_clicks"), State("energy-period", "value"),
          prevent_initial_call=True)
def export_unattributed(_csv, _xlsx, period):
    scope = current_scope()
    kind = _kind()
    if kind is None:
        return dash.no_update
    w = _window(period)
    frame = energy.unattributed(get_db(), scope, w.start, w.end)
    return table_file(page.unattributed_frame(frame, config.get().tariff_inr_per_kwh, w.first, w.last), kind,
                      "meters-without-vehicle")


@callback(Output("energy-sessions-download", "data"), Input("energy-sessions-export-csv", "n_clicks"),
          Input("energy-sessions-export-xlsx", "n_clicks"), *FILTER_STATES, prevent_initial_call=True)
def export_sessions(_csv, _xlsx, *values):
    """Every matching session (up to page.EXPORT_LIMIT), not only the rows on screen."""
    scope = current_scope()
    kind = _kind()
    db = get_db()
    filt, _problem = _session_filter(db, scope, *values)
    if kind is None or filt is None:   # the page already says what is wrong with the filters
        return dash.no_update
    return table_file(page.sessions_frame(_read_sessions(db, scope, filt, page.EXPORT_LIMIT)), kind, "charge-sessions")
