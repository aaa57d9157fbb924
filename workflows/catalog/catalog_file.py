"""Writing the catalog file: new processes are appended, never leaving a half-written file behind.

The new text is built in memory, parsed back and validated as a whole catalog, written to a temporary file
in the same folder, flushed to disk and renamed over the old file (``os.replace`` is atomic on one file
system): a crash leaves either the old catalog or the new one. When ``processes:`` is the file's last
section the new entries are appended as text, so every comment and the layout of the file are kept;
otherwise the file is rewritten from its data (comments lost) and the caller is told so.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Literal

import yaml

from kakitori.errors import BusinessError, ConfigError
from workflows.catalog.model import Process, load_catalog, parse_catalog

_LAST_SECTION = re.compile(r"^processes:[ \t]*(#.*)?$", re.MULTILINE)


def write_atomic(path: Path, text: str, *, bom: bool = False) -> None:
    """Write text as UTF-8 through a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:  # mkstemp makes 0600; a new report or catalog gets the usual permissions
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def process_data(proc: Process) -> dict:
    """A process as plain YAML-ready data, without keys left at their defaults."""
    return proc.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def _appended(text: str, new: list[dict]) -> str | None:
    """The file text with ``new`` appended under a final ``processes:`` section, or None if it is not last."""
    found = list(_LAST_SECTION.finditer(text))
    if not found:
        return None
    after = text[found[-1].end():]
    if any(line[:1] not in ("", " ", "\t", "#", "-") for line in after.splitlines()):
        return None  # another top-level key follows the processes
    items = [line for line in after.splitlines() if line.lstrip().startswith("-")]
    indent = " " * (len(items[0]) - len(items[0].lstrip())) if items else "  "  # follow the file's own layout
    blocks = []
    for entry in new:
        dumped = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
        blocks.append("".join(f"{indent}{line}" for line in dumped.splitlines(keepends=True)))
    return text.rstrip("\n") + "\n\n" + "\n".join(blocks)


def add_processes(path: Path, new: list[Process]) -> Literal["appended", "rewritten"]:
    """Add processes to the catalog file atomically; raises if an id is taken or the result is invalid."""
    catalog = load_catalog(path)
    taken = {p.id for p in catalog.processes}
    for proc in new:
        if proc.id in taken:
            raise BusinessError(f"id '{proc.id}' is already in the catalog", file=path, column="id")
        taken.add(proc.id)
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    new_data = [process_data(p) for p in new]
    data["processes"] = list(data.get("processes") or []) + new_data
    parse_catalog(data, path)  # the whole result must be a valid catalog before anything is written

    candidate = _appended(text, new_data)
    how: Literal["appended", "rewritten"] = "appended"
    try:
        if candidate is None or yaml.safe_load(candidate) != data:
            raise ValueError("append would not round-trip")
    except (yaml.YAMLError, ValueError):
        candidate = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
        how = "rewritten"
    if parse_catalog(yaml.safe_load(candidate), path).processes[-len(new):] != new:
        raise ConfigError("the catalog would not read back as written; nothing was changed", file=path)
    write_atomic(path, candidate)
    return how
