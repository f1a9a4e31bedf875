"""Schema migrations from code (the launcher and the tests); operators use `alembic upgrade head`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

import config


def _alembic(url: str) -> Config:
    cfg = Config(str(config.ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(_alembic(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(_alembic(url), revision)
