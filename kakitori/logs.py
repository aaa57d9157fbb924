"""Logging: loguru, configured once at process start (CLI, worker), with personal data masked.

Two sinks: readable lines on stderr and JSON lines in a rotating file under ``<data_dir>/logs`` (built from
named parts of the record only, ``_json_line``). A patcher
runs before any sink sees a record and masks personal data in the message and in the bound ``extra`` values:
12-digit individual numbers, phone numbers, and the values of personal fields (name, kana, address, birth
date, ...) wherever a record payload is logged. Library code only does ``from loguru import logger``.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from loguru import logger

from kakitori.config import LoggingConfig

MASK = "***"

# Keys whose values are personal data, as whole keys or as the last part of a snake_case key.
PERSONAL_KEYS = (
    "name", "kana", "furigana", "address", "birth_date", "birthday", "individual_number", "my_number",
    "mynumber", "phone", "tel", "email", "postal_code", "head_of_household", "applicant", "signature",
)
# Keys that end like a personal key but are not personal.
NOT_PERSONAL = {"template_name", "field_name", "file_name", "filename", "queue_name", "job_name", "workflow_name",
                "screen_name", "target_name", "user_name", "username", "host_name", "hostname", "step_name"}

_KEY_ALT = "|".join(re.escape(k) for k in sorted(PERSONAL_KEYS, key=len, reverse=True))
_KEY = rf"[A-Za-z_]*?(?:{_KEY_ALT})"
# name=山田 in key=value text ('name': ... in reprs and JSON is handled by _mask_quoted_pairs).
_KV_PAIR = re.compile(rf"""(?P<k>\b(?P<key>{_KEY})=)(?P<v>"[^"]*"|'[^']*'|[^\s,;)}}\]]+)""")
_INDIVIDUAL_NUMBER = re.compile(r"(?<![\d０-９])[\d０-９]{4}[\s\-－]?[\d０-９]{4}[\s\-－]?[\d０-９]{4}(?![\d０-９])")
_PHONE = re.compile(
    r"(?<![\d０-９])[0０][\d０-９]{1,4}[\-－‐ー(（)）\s][\d０-９]{1,4}[\-－‐ー)）\s][\d０-９]{3,4}(?![\d０-９])"
    r"|(?<![\d０-９])0[5789]0\d{8}(?!\d)|(?<![\d０-９])0\d{9}(?!\d)"
)


def is_personal_key(key: str) -> bool:
    k = key.lower()
    if k in NOT_PERSONAL:
        return False
    return any(k == p or k.endswith("_" + p) or k.startswith(p + "_") for p in PERSONAL_KEYS)


def mask_text(text: str) -> str:
    """Mask personal data inside free text (a log message, an error string, a formatted payload)."""
    text = _mask_quoted_pairs(text)

    def pair(m: re.Match[str]) -> str:
        if not is_personal_key(m.group("key")):
            return m.group(0)
        v = m.group("v")
        quote = v[0] if v[:1] in "'\"" else ""
        return f"{m.group('k')}{quote}{MASK}{quote}"

    text = _KV_PAIR.sub(pair, text)
    text = _INDIVIDUAL_NUMBER.sub(MASK, text)
    return _PHONE.sub(MASK, text)


_QUOTED_KEY = re.compile(r"""(?P<q>['"])(?P<key>[A-Za-z_]+)(?P=q)\s*:\s*""")
_STRING_RE = r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"'
_STRING = re.compile(_STRING_RE)
# a string that is a value: after ':' or inside a list, with or without a space
_VALUE_STRING = re.compile(rf"(?<=[:\[,])(\s*)({_STRING_RE})")


def _mask_quoted_pairs(text: str) -> str:
    """In repr/JSON text, replace the value of each personal key (a string, or every string in a nested {...}/[...])."""
    out, pos = [], 0
    for m in _QUOTED_KEY.finditer(text):
        if m.start() < pos or not is_personal_key(m.group("key")):
            continue
        start = m.end()
        end = _value_end(text, start)
        if end == start:
            continue
        value = text[start:end]
        if value[0] in "'\"":
            masked = f"{value[0]}{MASK}{value[0]}"
        else:  # a nested container: mask every string after a ':' or inside a list, keep the keys
            masked = _VALUE_STRING.sub(lambda v: f"{v.group(1)}{v.group(2)[0]}{MASK}{v.group(2)[0]}", value)
        out.append(text[pos:start] + masked)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _value_end(text: str, start: int) -> int:
    """Where the value beginning at ``start`` ends: a quoted string, or a bracketed container."""
    if start >= len(text):
        return start
    ch = text[start]
    if ch in "'\"":
        m = _STRING.match(text, start)
        return m.end() if m else start
    if ch not in "{[":
        return start
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "'\"":
            m = _STRING.match(text, i)
            i = m.end() if m else i + 1
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def mask_value(value: Any, key: str | None = None) -> Any:
    """Mask a structured value (a record payload bound with ``logger.bind``) recursively."""
    if key is not None and is_personal_key(key):
        return MASK
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 10:
        return mask_text(str(value))
    return value


def _patch(record: dict[str, Any]) -> None:
    record["message"] = mask_text(record["message"])
    if isinstance(record.get("template"), str):
        # loguru 0.8 also keeps the message's format string (serialized as "template"): a message built
        # before logging (an f-string, json.dumps) holds its values there in clear
        record["template"] = mask_text(record["template"])
    record["extra"].update(mask_value(dict(record["extra"])))
    if record["exception"] is not None:
        # Sinks would render the exception (message and source lines) unmasked: render it here, masked,
        # and hand the sinks only that text.
        etype, value, tb = record["exception"]
        text = "".join(traceback.format_exception(etype, value, tb))
        record["extra"]["traceback"] = mask_text(text)
        record["message"] += f" [{mask_text(''.join(traceback.format_exception_only(etype, value)).strip())}]"
        record["exception"] = None


def setup_logging(cfg: LoggingConfig, log_dir: Path | None, *, stderr: bool = True) -> Path | None:
    """Configure the process's sinks. Call once, at the edge. Returns the JSON log file's path."""
    logger.remove()
    logger.configure(patcher=_patch, extra={})
    if stderr:
        # Resolve sys.stderr at write time, so a replaced stream (pytest capture, a daemon) is honoured.
        logger.add(lambda text: sys.stderr.write(text), level=cfg.level, backtrace=False, diagnose=False,
                   format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {name}: {message}")
    if log_dir is None:
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "kakitori.jsonl"
    logger.add(path, level=cfg.file_level, format=_json_line, rotation=cfg.rotation, retention=cfg.retention,
               encoding="utf-8", backtrace=False, diagnose=False, enqueue=False)
    return path


def _json_line(record: dict[str, Any]) -> str:
    """The file sink's JSON line, built from the record's parts named here only (loguru's own ``serialize``
    writes every part a release adds: 0.8 added the unformatted message). Returned as loguru's custom
    serialisation recipe asks: stored in ``extra``, and a format string that prints it."""
    time = record["time"]
    line = {
        "text": f"{time:%Y-%m-%d %H:%M:%S.%f} | {record['level'].name} | {record['name']}:{record['function']}:"
                f"{record['line']} - {record['message']}",
        "record": {
            "time": {"repr": str(time), "timestamp": time.timestamp()},
            "level": {"name": record["level"].name, "no": record["level"].no},
            "name": record["name"], "function": record["function"], "line": record["line"],
            "message": record["message"],
            "extra": {k: v for k, v in record["extra"].items() if k != "_json"},
            "process": {"id": record["process"].id, "name": record["process"].name},
            "thread": {"id": record["thread"].id, "name": record["thread"].name},
        },
    }
    record["extra"]["_json"] = json.dumps(line, ensure_ascii=False, default=str)
    return "{extra[_json]}\n"
