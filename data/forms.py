"""What every form's server-side check raises: one message per field, so a page can put each message
under its field and a command can print them all."""
from __future__ import annotations

from datetime import datetime


class FormError(ValueError):
    """A change refused; ``errors`` maps a form field (or "form", for the whole change) to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _stamp(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def refuse_if_stale(error: type[FormError], what: str, stored_at: datetime, seen) -> None:
    """An edit names the ``updated_at`` its form was opened with (``seen``, None: no check); when the
    row changed since, the edit is refused instead of overwriting someone else's change."""
    if seen is not None and _stamp(stored_at) != _stamp(seen):
        raise error({"form": f"{what} was changed by someone else since you opened it: reopen it and make your "
                             "change again."})
