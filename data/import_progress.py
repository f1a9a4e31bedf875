"""How far a history import got in each file (``import_progress``): a rerun after an interruption
carries on from the last batch written. The writes are idempotent, so a batch written twice (the
process died between the batch and this mark) stores nothing twice."""
from __future__ import annotations

from data.db import Database


def done(db: Database, file_key: str) -> tuple[int, bool]:
    row = db.one("SELECT rows_done, finished FROM import_progress WHERE file_key = :k", k=file_key)
    return (row["rows_done"], row["finished"]) if row else (0, False)


def mark(db: Database, file_key: str, path: str, rows_done: int, finished: bool = False) -> None:
    db.execute("""INSERT INTO import_progress (file_key, path, rows_done, finished) VALUES (:k, :p, :n, :f)
                  ON CONFLICT (file_key) DO UPDATE SET path = EXCLUDED.path, rows_done = EXCLUDED.rows_done,
                                                       finished = EXCLUDED.finished, updated_at = now()""",
               k=file_key, p=path, n=rows_done, f=finished)


def forget(db: Database, file_key: str) -> None:
    db.execute("DELETE FROM import_progress WHERE file_key = :k", k=file_key)
