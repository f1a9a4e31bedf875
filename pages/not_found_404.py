"""Any unknown URL: a plain 'not found', never a traceback."""
import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Not found", title="Not found")


def layout(**_query):
    return html.Div(className="not-found", children=[
        html.H1("Not found", className="page-title"),
        html.P("There is nothing at this address, or it is not yours to see."),
        dcc.Link("Back to the fleet overview", href="/"),
    ])
