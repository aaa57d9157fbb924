"""The ``Queue`` seam: rq on Redis, or the same jobs run in-process on an embedded fake Redis.

* Jobs cross Redis as JSON (rq's ``JSONSerializer``): whoever can write to Redis can name a job function,
  never ship code.
* One rq queue per stage (``ocr``, ``keyin``, ``report``) with its own timeout, so OCR can scale out on CPU
  machines while key-in runs with a per-target session limit (``slot``).
* ``lease`` marks a document as being worked on (a twin job finding it held does nothing), and ``keep_alive``
  refreshes leases, slots and the store's heartbeat from a background thread while a job runs: a worker
  killed with SIGKILL stops refreshing, which is how the sweeper notices within seconds (rq itself only
  notices after its heartbeat TTL and a registry cleanup).
* ``redis_url: embedded``: a process-wide fakeredis and ``drain()``, which works the queues with rq's
  ``SimpleWorker`` in burst mode (scheduled retries included) until they are empty. No Redis needed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from loguru import logger
from rq import Queue as RqQueue
from rq import SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty, UnixSignalDeathPenalty

from kakitori.config import QueueConfig, secret
from kakitori.errors import ApplicationError, ConfigError, KakitoriError

EMBEDDED = "embedded"
KEY_PREFIX = "kakitori:"
LEASE_TTL_S = 10.0
PENDING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

_embedded_server: Any = None
_embedded_lock = threading.Lock()

# Acquire one of ``max`` slots (a sorted set of holder → expiry): drop lapsed holders, then add if room.
_ACQUIRE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
return 0
"""
# Extend a lease we hold; take it again if Redis lost it (a restart); never take one someone else holds now.
_EXTEND_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
return 0
"""
_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def connect(cfg: QueueConfig) -> redis.Redis:
    """A Redis connection for the configured URL (password from the environment), or the embedded fake."""
    if cfg.redis_url == EMBEDDED:
        import fakeredis

        global _embedded_server
        with _embedded_lock:
            if _embedded_server is None:
                _embedded_server = fakeredis.FakeServer()
        return fakeredis.FakeRedis(server=_embedded_server)
    try:
        return redis.Redis.from_url(cfg.redis_url, password=secret(cfg.redis_password_env),
                                    socket_connect_timeout=5, health_check_interval=30)
    except ValueError as exc:
        raise ConfigError(f"queue.redis_url: {exc}", key="queue.redis_url") from None


@dataclass(frozen=True)
class FailedJob:
    """A job rq gave up on, as ``kakitori jobs failed`` shows it."""

    id: str
    queue: str
    func: str
    args: tuple[Any, ...]
    reason: str
    ended_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "queue": self.queue, "func": self.func, "args": list(self.args),
                "reason": self.reason, "ended_at": self.ended_at}


class Queue:
    """Stage queues on one Redis (or the embedded fake), with leases, per-target slots and a run-once lock."""

    def __init__(self, cfg: QueueConfig, connection: redis.Redis | None = None) -> None:
        self.cfg = cfg
        self.embedded = cfg.redis_url == EMBEDDED
        self.connection = connection if connection is not None else connect(cfg)
        missing = [q for q in cfg.queues if q not in cfg.timeouts_s]
        if missing:
            raise ConfigError(f"queue.timeouts_s has no timeout for queue(s) {missing}", key="queue.timeouts_s")
        self.queues = {
            name: RqQueue(name, connection=self.connection, serializer=JSONSerializer,
                          default_timeout=cfg.timeouts_s[name])
            for name in cfg.queues
        }
        self._acquire_slot = self.connection.register_script(_ACQUIRE_SLOT)
        self._extend_lease = self.connection.register_script(_EXTEND_LEASE)
        self._release_lease = self.connection.register_script(_RELEASE_LEASE)
        self._refresher = _Refresher(self)

    def queue(self, stage: str) -> RqQueue:
        try:
            return self.queues[stage]
        except KeyError:
            raise ConfigError(f"no queue named {stage!r} in queue.queues {list(self.queues)}",
                              key="queue.queues") from None

    def ping(self) -> None:
        try:
            self.connection.ping()
        except redis.RedisError as exc:
            raise ApplicationError(f"Redis unreachable: {exc}", queue=self.cfg.redis_url) from None

    def enqueue(self, stage: str, func: Callable[..., Any] | str, *args: Any, job_id: str | None = None,
                delay_s: float = 0) -> Job:
        """Put ``func(*args)`` on the stage's queue (args must be JSON: ids and paths)."""
        q = self.queue(stage)
        kwargs: dict[str, Any] = {"job_id": job_id, "result_ttl": 3600, "failure_ttl": 7 * 86400}
        try:
            if delay_s > 0:
                return q.enqueue_in(timedelta(seconds=delay_s), func, *args, **kwargs)
            return q.enqueue(func, *args, **kwargs)
        except redis.RedisError as exc:
            raise ApplicationError(f"cannot enqueue: {exc}", queue=stage, job=job_id) from None

    def replace(self, stage: str, func: Callable[..., Any] | str, *args: Any, job_id: str) -> Job:
        """Enqueue ``job_id`` afresh: first drop what Redis still holds of an earlier run of it (a job left
        "started" by a killed worker), so rq's own cleanup can't later mark the new one failed."""
        try:
            old = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            pass
        else:
            self._forget_lost_executions(old)
            old.delete()
        return self.enqueue(stage, func, *args, job_id=job_id)

    def _forget_lost_executions(self, job: Job) -> None:
        """Drop from the job's execution registry the executions whose record expired with a killed worker:
        rq's ``Job.delete`` fetches each one and raises ValueError on a missing one."""
        registry = job.execution_registry
        for execution_id in registry.get_execution_ids():
            if not self.connection.exists(Execution(execution_id, job.id, self.connection).key):
                self.connection.zrem(registry.key, execution_id)

    def job_status(self, job_id: str) -> JobStatus | None:
        """The rq status of a job, or None if Redis does not know it (finished long ago, or Redis lost it)."""
        try:
            return Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer).get_status()
        except NoSuchJobError:
            return None

    def pending(self, job_id: str) -> bool:
        """The job waits in a queue or in the scheduler (it will run without help)."""
        return self.job_status(job_id) in PENDING

    # leases, slots, locks

    @contextmanager
    def lease(self, name: str, ttl_s: float | None = None) -> Iterator[bool]:
        """Hold ``name`` while the block runs (yields False, holding nothing, if someone else holds it).

        Refreshed in the background; if Redis lost it (a restart), the refresh takes it again.
        """
        ttl_ms = int((ttl_s or self.lease_ttl_s) * 1000)
        key, token = f"{KEY_PREFIX}lease:{name}", uuid.uuid4().hex
        held = bool(self.connection.set(key, token, nx=True, px=ttl_ms))
        if not held:
            yield False
            return
        with self.keep_alive(lambda: self._extend_lease(keys=[key], args=[token, ttl_ms]), ttl_ms / 1000):
            try:
                yield True
            finally:
                self._release_lease(keys=[key], args=[token])

    @property
    def lease_ttl_s(self) -> float:
        """How soon a crashed holder's lease lapses: the sweeper's staleness, at most ``LEASE_TTL_S``."""
        return float(min(LEASE_TTL_S, self.cfg.stale_after_s))

    @contextmanager
    def keep_alive(self, refresh: Callable[[], Any], ttl_s: float) -> Iterator[None]:
        """Call ``refresh`` every ``ttl_s / 3`` seconds (a background thread) while the block runs."""
        handle = self._refresher.add(refresh, ttl_s)
        try:
            yield
        finally:
            self._refresher.remove(handle)

    def leased(self, name: str) -> bool:
        return bool(self.connection.exists(f"{KEY_PREFIX}lease:{name}"))

    @contextmanager
    def slot(self, pool: str, size: int, *, wait_s: float, ttl_s: float | None = None) -> Iterator[None]:
        """One of ``size`` concurrent slots of ``pool`` (a target system's sessions), waiting up to ``wait_s``.

        A holder that dies stops refreshing its slot, which lapses after ``ttl_s``. Raises ``ApplicationError``
        (retryable) when no slot frees up in time.
        """
        key, holder = f"{KEY_PREFIX}slots:{pool}", uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        ttl_s = ttl_s or self.lease_ttl_s

        def acquire() -> bool:
            now = time.time()
            return bool(self._acquire_slot(keys=[key], args=[now, size, holder, now + ttl_s]))

        while not acquire():
            if time.monotonic() > deadline:
                raise ApplicationError(f"all {size} session(s) of the target are busy", target=pool)
            time.sleep(0.05)
        with self.keep_alive(acquire, ttl_s):
            try:
                yield
            finally:
                self.connection.zrem(key, holder)

    def claim_once(self, name: str, ttl_s: int) -> bool:
        """True for exactly one caller per ``name`` within ``ttl_s`` (SET NX): one scheduler fires a run."""
        return bool(self.connection.set(f"{KEY_PREFIX}once:{name}", "1", nx=True, ex=ttl_s))

    # failed jobs

    def failed(self) -> list[FailedJob]:
        out = []
        for name, q in self.queues.items():
            registry = FailedJobRegistry(queue=q)
            for job_id in registry.get_job_ids():
                try:
                    job = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
                except NoSuchJobError:
                    continue
                result = job.latest_result()
                reason = (result.exc_string or "").strip().splitlines()[-1:] if result and result.exc_string else []
                text = reason[0] if reason else ("gave up after the last retry" if job.number_of_retries else "failed")
                out.append(FailedJob(id=job.id, queue=name, func=job.func_name, args=tuple(job.args), reason=text,
                                     ended_at=job.ended_at.isoformat() if job.ended_at else ""))
        return out

    def requeue_failed(self, job_id: str) -> bool:
        for q in self.queues.values():
            registry = FailedJobRegistry(queue=q)
            if job_id in registry.get_job_ids():
                registry.requeue(job_id)
                return True
        return False

    # embedded runner

    def drain(self, *, tick: Callable[[], Any] | None = None, poll_s: float = 0.2) -> int:
        """Work every queue in this process until nothing is queued or scheduled; returns the jobs run.

        The embedded runner (also usable against a real Redis, as a burst worker). ``tick`` is called after
        every job (a progress bar).
        """
        done = 0
        while True:
            worker = _InProcessWorker(list(self.queues.values()), connection=self.connection,
                                      serializer=JSONSerializer)
            worker.work(burst=True, logging_level="WARNING", max_jobs=1 if tick else None)
            done += worker.successful_job_count + worker.failed_job_count
            if tick is not None:
                tick()
            self._enqueue_due()
            if any(q.count for q in self.queues.values()):
                continue
            next_due = self._next_scheduled()
            if next_due is None:
                return done
            time.sleep(max(0.0, min(poll_s, next_due - time.time())))

    def _enqueue_due(self) -> None:
        now = int(time.time())
        for q in self.queues.values():
            registry = ScheduledJobRegistry(queue=q)
            for job_id in registry.get_jobs_to_schedule(now):
                try:
                    job = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
                except NoSuchJobError:
                    registry.remove(job_id)
                    continue
                registry.remove(job)
                q.enqueue_job(job)

    def _next_scheduled(self) -> float | None:
        times = []
        for q in self.queues.values():
            first = self.connection.zrange(ScheduledJobRegistry(queue=q).key, 0, 0, withscores=True)
            if first:
                times.append(first[0][1])
        return min(times) if times else None


class LeanWorker(SimpleWorker):
    """rq's SimpleWorker with its worker heartbeat sent at most once a second.

    rq beats the worker's key several times around every job (9 of ~20 Redis round trips for a trivial job);
    once a second keeps the key alive (its TTL is far longer) at a fraction of the cost per job.
    """

    _last_beat = 0.0

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if timeout is None and pipeline is None:
            if time.monotonic() - self._last_beat < 1.0:
                return
            self._last_beat = time.monotonic()
        super().heartbeat(timeout, pipeline)


class _InProcessWorker(LeanWorker):
    """rq's SimpleWorker, usable from any thread (no signal handlers, timer-based job timeouts off the main thread)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._main_thread = threading.current_thread() is threading.main_thread()
        self.death_penalty_class = UnixSignalDeathPenalty if self._main_thread else TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        if self._main_thread:
            super()._install_signal_handlers()

    def subscribe(self) -> None:  # no pub/sub listener thread for a burst in-process
        return None

    def unsubscribe(self) -> None:
        return None


class _Refresher:
    """One daemon thread per Queue that keeps this process's leases and slots alive while their jobs run."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._items: dict[int, tuple[Callable[[], Any], float]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self._thread: threading.Thread | None = None

    def add(self, refresh: Callable[[], Any], ttl_s: float) -> int:
        with self._lock:
            self._next += 1
            self._items[self._next] = (refresh, ttl_s)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="kakitori-leases", daemon=True)
                self._thread.start()
            return self._next

    def remove(self, handle: int) -> None:
        with self._lock:
            self._items.pop(handle, None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                items = list(self._items.values())
            if not items:
                time.sleep(0.2)
                continue
            for refresh, _ttl in items:
                try:
                    refresh()
                except (redis.RedisError, KakitoriError) as exc:  # keep refreshing the others; retry next beat
                    logger.warning("keep-alive failed: {error}", error=type(exc).__name__)
            time.sleep(min(ttl for _r, ttl in items) / 3)
