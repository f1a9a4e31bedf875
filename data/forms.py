"""What every form's server-side check raises: one message per field, so a page can put each message
under its field and a command can print them all."""
from __future__ import annotations


class FormError(ValueError):
    """A change refused; ``errors`` maps a form field (or "form", for the whole change) to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
