"""Who may use the review station: staff accounts from config, hashed passwords, roles, CSRF tokens.

Accounts are listed in ``config.yaml`` (``review.users``: name, role, ``password_hash_env``); each password
hash lives in the environment variable the account names, never in the file. Hashes are werkzeug's
``scrypt:…`` strings, made by ``kakitori review hash-password``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from enum import Enum

from werkzeug.security import check_password_hash, generate_password_hash

from kakitori.config import ReviewConfig, secret
from kakitori.errors import ConfigError

# Compared against when the user name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method="scrypt")


class Role(str, Enum):
    REVIEWER = "reviewer"      # checks open fields; enters one side of a double check
    SUPERVISOR = "supervisor"  # also decides double-check mismatches


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR


def hash_password(password: str) -> str:
    """The hash an IT officer puts in a user's ``password_hash_env`` variable (scrypt, random salt)."""
    if len(password) < 8:
        raise ValueError("a password has at least 8 characters")
    return generate_password_hash(password, method="scrypt")


@dataclass
class Accounts:
    """The configured users, and a short lockout after repeated failed logins (per name, in memory)."""

    users: dict[str, User]
    max_failures: int = 5
    lockout_s: float = 300.0

    def __post_init__(self) -> None:
        self._failures: dict[str, list[float]] = {}

    @classmethod
    def from_config(cls, cfg: ReviewConfig, env: dict[str, str] | None = None) -> Accounts:
        """Read each user's hash from the environment; a user without one is a config error."""
        users = {}
        for i, u in enumerate(cfg.users):
            h = secret(u.password_hash_env, env)
            if not h:
                raise ConfigError(f"key 'review.users[{i}].password_hash_env': environment variable "
                                  f"{u.password_hash_env} is not set (make one with `kakitori review hash-password`)")
            if not h.startswith(("scrypt:", "pbkdf2:")):
                raise ConfigError(f"key 'review.users[{i}].password_hash_env': {u.password_hash_env} does not "
                                  "hold a password hash (make one with `kakitori review hash-password`)")
            users[u.name] = User(u.name, Role(u.role), h)
        return cls(users)

    def locked(self, name: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        recent = [t for t in self._failures.get(name, []) if now - t < self.lockout_s]
        self._failures[name] = recent
        return len(recent) >= self.max_failures

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if name and password match and the name is not locked out; else None."""
        user = self.users.get(name)
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
        if self.locked(name):
            return None
        if not (ok and user):
            self._failures.setdefault(name, []).append(time.monotonic())
            return None
        self._failures.pop(name, None)
        return user


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's token with the one a form sent back."""
    return bool(expected and given) and hmac.compare_digest(expected, given)
