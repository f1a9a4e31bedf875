"""A user's scope: which part of the fleet every query may touch.

Built on the server from the logged-in user (auth.py) and passed into every data/ function, which
applies it in SQL. Nothing the browser sends goes into a Scope.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    role: str
    user_id: int | None = None
    dealer_id: int | None = None  # None: the whole fleet
    api_key_id: int | None = None  # set when the request came with an API key instead of a session
    actor: str | None = None  # who acts, for audit lines: a username or "key:<name>"
    address: str | None = None  # where the request came from, for audit lines

    @property
    def whole_fleet(self) -> bool:
        return self.dealer_id is None

    def devices(self, alias: str = "d") -> str:
        """A SQL condition on a devices-table alias; bind ``params()`` alongside it."""
        return "TRUE" if self.whole_fleet else f"{alias}.dealer_id = :scope_dealer_id"

    def sites(self, alias: str = "s") -> str:
        """A SQL condition on a sites-table alias (a dealer's own sites); bind ``params()`` alongside it."""
        return "TRUE" if self.whole_fleet else f"{alias}.dealer_id = :scope_dealer_id"

    def params(self) -> dict:
        return {} if self.whole_fleet else {"scope_dealer_id": self.dealer_id}
