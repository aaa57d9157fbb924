"""Fixtures for the workflows tests: a document store on SQLite and on PostgreSQL, a private Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
import yaml

from workflows.review.bench import TEMPLATES
from workflows.store import DocumentStore

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request, tmp_path):
    """A fresh store on each backend; on PostgreSQL in a schema of its own, dropped afterwards."""
    if request.param == "sqlite":
        s = DocumentStore(f"sqlite:///{tmp_path / 'kakitori.db'}")
    else:
        s = DocumentStore(POSTGRES_URL, schema=f"kakitori_test_{uuid.uuid4().hex[:10]}")
    yield s
    s.drop_all()
    s.close()


class PrivateRedis:
    """A redis-server of our own on a free port (no persistence), so a test may kill and restart it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt install redis-server)")
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory) -> Path:
    """The sample juminido template, with its individual number double-checked (whatever the sample says)."""
    folder = tmp_path_factory.mktemp("templates")
    raw = yaml.safe_load((TEMPLATES / "juminido.yaml").read_text(encoding="utf-8"))
    for f in raw["fields"]:
        f["review"] = "double" if f["name"] == "individual_number" else "single"
    raw["reference"] = str(TEMPLATES / raw["reference"])
    (folder / "juminido.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return folder
