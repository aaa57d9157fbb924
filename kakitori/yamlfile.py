"""Reading the YAML files people write (config, templates, workflows, the catalog) with one kind of error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kakitori.errors import ConfigError


def read_yaml(path: Path, what: str) -> Any:
    """Parse one YAML file; a missing, unreadable or malformed file is a ConfigError naming it (and the line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what}: {exc}", file=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML: {where}{problem}", file=path) from None
