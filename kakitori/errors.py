"""One error model for the whole suite.

Two kinds of failure, one base class:

* ``BusinessError``: the input is wrong (a bad scan, a value the target system rejects, a malformed
  workflow). A person must look. Never retried.
* ``ApplicationError``: the machinery failed (a screen timed out, a browser crashed, Redis went away).
  Safe to retry.

Every error carries context (document id, file, page, field, screen, ...) so that a clerk reading the
failed-jobs list knows where to look. Context values must never be personal data: name the field,
not its value.
"""

from __future__ import annotations

from typing import Any


class KakitoriError(Exception):
    """Base of every error Kakitori raises on purpose."""

    exit_code = 1
    retryable = False
    kind = "error"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        if not self.context:
            return self.message
        where = " ".join(f"{k}={v}" for k, v in self.context.items())
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, as stored with a failed job or document."""
        return {
            "kind": self.kind,
            "error": type(self).__name__,
            "message": self.message,
            "retryable": self.retryable,
            "context": {k: str(v) for k, v in self.context.items()},
        }


class ConfigError(KakitoriError):
    """Configuration (config.yaml, a template, a workflow) is missing or wrong."""

    exit_code = 3
    kind = "config"


class BusinessError(KakitoriError):
    """The input is wrong: a person must look. Never retried."""

    exit_code = 4
    kind = "business"


class ApplicationError(KakitoriError):
    """The machinery failed: safe to retry."""

    exit_code = 5
    retryable = True
    kind = "application"


EXIT_CODES = {
    0: "success",
    1: "unexpected internal error (a bug: see the log file)",
    2: "wrong command-line usage",
    ConfigError.exit_code: "configuration error (file and key named in the message)",
    BusinessError.exit_code: "business error: the input needs a person (file/page/field named)",
    ApplicationError.exit_code: "application error: the machinery failed, safe to retry",
}
