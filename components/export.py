"""CSV and XLSX export of any table: the buttons, and the file built from the table's rows.

Pure: the page's callback reads the rows (within the user's scope) and hands them here.
"""
from __future__ import annotations

import io
import re

import pandas as pd
from dash import dcc, html

FORMATS = ("csv", "xlsx")
# A cell starting with one of these is a formula to a spreadsheet: a vehicle number or customer name
# typed as "=HYPERLINK(...)" must arrive as text (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def create_export_buttons(prefix: str, label: str = "Export") -> html.Div:
    """Buttons ``{prefix}-export-csv`` and ``{prefix}-export-xlsx`` and the download ``{prefix}-download``."""
    return html.Div(className="export-buttons", children=[
        html.Span(label, className="export-label"),
        *[html.Button(kind.upper(), id=f"{prefix}-export-{kind}", className="export-button", n_clicks=0,
                      title=f"Download this table as {kind.upper()}") for kind in FORMATS],
        dcc.Download(id=f"{prefix}-download"),
    ])


def _defuse(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_file(frame: pd.DataFrame, kind: str, name: str) -> dict:
    """What ``dcc.Download`` needs to save ``frame`` as ``name.csv`` or ``name.xlsx``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "", name)[:80] or "table"  # names come from data: keep them plain
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(_defuse)
        elif isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_localize(None)  # spreadsheets have no time zones; stated in the header
    if kind == "xlsx":
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, sheet_name=name[:31])
        return dcc.send_bytes(buffer.getvalue(), f"{name}.xlsx")
    return dcc.send_string(frame.to_csv(index=False), f"{name}.csv")
