"""Workflow definitions: which scans, which form, which steps, which target system, when.

One YAML file per workflow, found by name in ``workflows.dirs`` (``<name>.yaml``)::

    name: tennyu
    title: 転入届の入力
    input:
      folder: ../../data/inbox/tennyu     # a watched folder (relative to this file), or
      files: [a.png, b.pdf]               # a file list
      patterns: ["*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.pdf"]
    templates: [juminido]                 # or [auto]: recognise the form on each page
    steps: [ocr, validate, review, keyin, report]
    target: sample-legacy                 # a key of bots.targets in config.yaml
    schedule: "0 2 * * *"                 # optional: overnight, cron syntax

Validation is strict: malformed YAML, an unknown key, a missing folder or a wrong step order is a
``ConfigError`` that names the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kakitori.errors import ConfigError
from kakitori.yamlfile import read_yaml

STEP_ORDER = ("ocr", "validate", "review", "keyin", "report")
SCAN_PATTERNS = ("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.pdf")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: Path | None = None
    files: list[Path] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=lambda: list(SCAN_PATTERNS))


class _Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    title: str = ""
    input: _Input = Field(default_factory=_Input)
    templates: list[str] = Field(default_factory=lambda: ["auto"], min_length=1)
    steps: list[str] = Field(default_factory=lambda: list(STEP_ORDER))
    target: str = ""
    schedule: str | None = None

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: list[str]) -> list[str]:
        unknown = [s for s in steps if s not in STEP_ORDER]
        if unknown:
            raise ValueError(f"unknown step(s) {unknown}; steps are {list(STEP_ORDER)}")
        if steps != sorted(steps, key=STEP_ORDER.index) or len(set(steps)) != len(steps):
            raise ValueError(f"steps must keep the order {list(STEP_ORDER)}, each once")
        if "ocr" not in steps:
            raise ValueError("the ocr step is required")
        return steps

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from croniter import croniter

            if not croniter.is_valid(value):
                raise ValueError(f"not a cron expression: {value!r}")
        return value


@dataclass(frozen=True)
class Workflow:
    name: str
    title: str
    folder: Path | None
    files: tuple[Path, ...]
    patterns: tuple[str, ...]
    templates: tuple[str, ...]
    steps: tuple[str, ...]
    target: str
    schedule: str | None
    source: Path

    @property
    def template(self) -> str:
        """The template passed to OCR: the one named, else ``auto`` (recognise each page)."""
        return self.templates[0] if len(self.templates) == 1 else "auto"

    def scans(self, folder: Path | None = None) -> list[Path]:
        """The input files: those of ``folder`` (or the workflow's own), else the file list; sorted by name."""
        folder = folder or self.folder
        if folder is not None:
            if not folder.is_dir():
                key = "--input" if folder != self.folder else "input.folder"
                raise ConfigError(f"input folder not found: {folder}", file=self.source, key=key)
            patterns = [p.lower() for p in self.patterns]  # scanners write .PDF as often as .pdf
            return sorted(p for p in folder.iterdir()
                          if p.is_file() and any(fnmatch(p.name.lower(), pat) for pat in patterns))
        if not self.files:
            raise ConfigError("no input: give --input DIR, or input.folder / input.files", file=self.source,
                              key="input")
        missing = [p for p in self.files if not p.is_file()]
        if missing:
            raise ConfigError(f"input file not found: {missing[0]}", file=self.source, key="input.files")
        return list(self.files)


def load_workflow(path: str | Path, *, targets: dict[str, Any] | None = None) -> Workflow:
    """Read and validate one workflow file. ``targets`` (``bots.targets``) checks the target's name."""
    path = Path(path)
    raw = read_yaml(path, "workflow file")
    if not isinstance(raw, dict):
        raise ConfigError("a workflow file holds a mapping (name, input, templates, steps, target)", file=path)
    try:
        wf = _Workflow.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top)"
        msg = ("unknown key (not expected here; check spelling)" if err["type"] == "extra_forbidden"
               else "required key is missing" if err["type"] == "missing"
               else err["msg"].removeprefix("Value error, "))
        raise ConfigError(msg, file=path, key=key) from None
    base = path.resolve().parent
    folder = (base / wf.input.folder).resolve() if wf.input.folder else None
    if folder is not None and not folder.is_dir():
        raise ConfigError(f"input folder not found: {folder}", file=path, key="input.folder")
    if "keyin" in wf.steps:
        if not wf.target:
            raise ConfigError("a workflow with a keyin step names its target", file=path, key="target")
        if targets is not None and wf.target not in targets:
            raise ConfigError(f"unknown target '{wf.target}' (configured: {', '.join(sorted(targets)) or 'none'})",
                              file=path, key="target")
    return Workflow(name=wf.name, title=wf.title, folder=folder,
                    files=tuple((base / f).resolve() for f in wf.input.files), patterns=tuple(wf.input.patterns),
                    templates=tuple(wf.templates), steps=tuple(wf.steps), target=wf.target, schedule=wf.schedule,
                    source=path)


def find_workflow(name_or_path: str, dirs: list[Path], *, targets: dict[str, Any] | None = None) -> Workflow:
    """A workflow by file path, or by name in the configured folders."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return load_workflow(candidate, targets=targets)
    for folder in dirs:
        for suffix in (".yaml", ".yml"):
            path = folder / f"{name_or_path}{suffix}"
            if path.is_file():
                return load_workflow(path, targets=targets)
    known = sorted(p.stem for d in dirs if d.is_dir() for p in d.glob("*.y*ml"))
    raise ConfigError(f"no workflow named '{name_or_path}' (known: {', '.join(known) or 'none'})",
                      key="workflows.dirs")
