"""Getting telemetry in: the worker, its sources, validation, storage, alerts. Never imports dash."""
