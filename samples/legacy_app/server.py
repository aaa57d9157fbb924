"""Running the sample legacy app: in the foreground (the CLI) or on a background thread (tests, benchmarks)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from samples.legacy_app.app import AppConfig, create_app
from samples.legacy_app.store import Store


class LegacyAppServer:
    """The app on 127.0.0.1 in a daemon thread; ``port=0`` picks a free port. Use as a context manager."""

    def __init__(self, cfg: AppConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in tests and benchmarks
        self.cfg = cfg
        self.app = create_app(cfg)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="legacy-app", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def store(self) -> Store:
        return self.app.config["store"]

    @property
    def fault_counts(self) -> dict[str, int]:
        return dict(self.app.config["faults"].counts)

    def start(self) -> "LegacyAppServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LegacyAppServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(cfg: AppConfig, host: str, port: int) -> None:
    """Serve in the foreground until interrupted."""
    server = make_server(host, port, create_app(cfg), threaded=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def export(db: Path) -> list[dict[str, Any]]:
    """What the app saved, one dict per application (for tests and benchmarks)."""
    return list(Store(db).export())
