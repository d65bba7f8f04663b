"""The worker: claims jobs from the queue in Postgres and runs them, a bounded number at a time.

Lifecycle (after procrastinate's): `stop()` only sets an event; side tasks are named threads (the LISTEN
listener, the optional Realtime subscription, the APScheduler sweep) and are stopped with the worker. A wake-up
(NOTIFY, Realtime, the end of a job) makes the loop claim at once; the sweep, every `sweep_interval_seconds`,
requeues expired leases, runs the periodic jobs and wakes the loop, so correctness never depends on a wake-up.
On stop, the loop claims nothing more, waits `shutdown_timeout_seconds` for the jobs in flight, then cancels
their queries and hands them back to the queue (uncounted). A worker killed outright holds nothing but leases;
its transactions roll back, and its jobs are reclaimed at the next sweep because the connection it kept open for
its whole life (its presence, whose backend pid each lease records) is gone.

While a job runs, a heartbeat renews its lease every third of the lease, so a long job is never taken over and run
twice. When the database cannot be reached the loop retries with backoff, and on the embedded default it looks
up the cluster's address again each time (a restarted cluster listens on a new port); `--once` gives up after
`database_wait_seconds` and reports it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from psycopg_pool import ConnectionPool, PoolTimeout

from worker.config import Settings
from worker.extract.boundary import ContainedExtractor
from worker.extract.model import Extractor
from worker.runtime.messages import apply_pending_messages, extractor_for
from worker.runtime.store import Job, JobStore, MaintenanceKind

log = logging.getLogger("worker.runtime")

NOTIFY_CHANNEL = "customer_memory_jobs"
EXPIRY_INTERVAL_SECONDS = 300.0
CONTEXT_REFRESH_BATCH = 100
RETENTION_INTERVAL_SECONDS = 3600.0
# What each maintenance kind counts in RunStats.periodic.
_MAINTENANCE_COUNTS: dict[MaintenanceKind, str] = {
    "expiry": "expired",
    "retention": "archived",
    "contexts": "contexts_refreshed",
}
RETENTION_BATCH = 10000
_RETRYABLE = (psycopg.OperationalError, PoolTimeout)


@dataclass
class RunStats:
    claimed: int = 0  # shoppers' recomputes (maintenance jobs are counted in `maintenance`)
    done: int = 0
    maintenance: int = 0
    failed: int = 0
    released: int = 0
    unreachable: bool = False  # --once gave up: the database could not be reached for database_wait_seconds
    periodic: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        settings: Settings,
        database_url: str | None = None,
        *,
        name: str | None = None,
        now: Callable[[], datetime | None] | None = None,
        listen: bool = True,
        realtime: bool | None = None,
        backoff_base_seconds: float = 1.0,
        extractor: Extractor | None = None,
        relocate: Callable[[], str | None] | None = None,
    ) -> None:
        self.settings = settings
        # Never the embedded default: starting a cluster is the local tooling's business (worker.db.local), which
        # the `worker` command uses to find one; a library Worker without a URL is a mistake, said at once.
        url = database_url or settings.database_url
        if not url:
            raise ValueError("The worker needs a database URL: pass database_url or set DATABASE_URL.")
        self.url = url
        # On the embedded default, where the cluster listens now (a restarted one listens on a new port).
        self._relocate = relocate
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.now = now or (lambda: None)
        self.listen = listen
        self.realtime = (
            realtime if realtime is not None else bool(settings.supabase_url and settings.supabase_service_role_key)
        )
        self.backoff_base_seconds = backoff_base_seconds
        self.extractor = ContainedExtractor(extractor or extractor_for(settings), settings.extract_timeout_seconds)
        self.stats = RunStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        # Set once every job thread can take a job (its extractor process is up), and when the worker stops.
        self.ready = threading.Event()
        self._running_conns: dict[int, psycopg.Connection[Any]] = {}
        self._running_jobs: dict[int, Job] = {}
        self._presence: psycopg.Connection[Any] | None = None
        self._presence_lock = threading.Lock()
        # How long a claim or a sweep waits for a connection (never longer than --once waits for the database).
        self._connect_wait = min(5.0, settings.database_wait_seconds)
        self._releasing = threading.Event()
        self._reached_at = time.monotonic()
        self._lock = threading.Lock()
        self._side: list[threading.Thread] = []

    # -- control ----------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop -------------------------------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> RunStats:
        concurrency = self.settings.worker_concurrency
        self._pool = self._open_pool()
        log.info("worker started", extra={"worker": self.name, "concurrency": concurrency, "once": once})
        self._start_side("heartbeat", self._heartbeat_loop)
        scheduler: BackgroundScheduler | None = None
        if not once:
            if self.listen:
                self._start_side("listener", self._listen_loop)
            if self.realtime:
                self._start_side("realtime", self._realtime_loop)
            scheduler = BackgroundScheduler(daemon=True)
            scheduler.add_job(
                self._sweep,
                "interval",
                seconds=self.settings.sweep_interval_seconds,
                id="sweep",
                name="sweep",
                max_instances=1,
                coalesce=True,
            )
            scheduler.start()
        executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="job")
        # Threads starting their extractor take no job until it is up: a claimed job waits in no queue.
        starting = self._start_extractors(executor, concurrency) if not once else []
        inflight: dict[Future[None], Job] = {}
        failures = 0
        # --once gives up database_wait_seconds after the database was last reached (or, never reached, after the
        # run began): every wait below is cut to what is left of it, so the run ends on time.
        self._reached_at = time.monotonic()
        try:
            self._sweep(force=once)
            while not self._stop.is_set():
                for future in [f for f in inflight if f.done()]:
                    del inflight[future]
                starting = [f for f in starting if not f.done()]
                if not starting and not self.ready.is_set():
                    self.ready.set()
                    log.info("worker ready", extra={"worker": self.name})
                free = concurrency - len(inflight) - len(starting)
                jobs: list[Job] = []
                if free > 0:
                    try:
                        with self._pool.connection(timeout=self._wait_left(once)) as conn:
                            jobs = JobStore(conn).claim(
                                self.name,
                                free,
                                self.settings.job_lease_seconds,
                                self._presence_pid(),
                                self.settings.busy_shopper_seconds,
                            )
                        failures = 0
                        self._reached_at = time.monotonic()
                    except _RETRYABLE as error:
                        failures += 1
                        if once and self._wait_left(once) <= 0.05:
                            self.stats.unreachable = True
                            log.error(
                                "cannot reach the database; giving up",
                                extra={"worker": self.name, "error": str(error)},
                            )
                            break
                        delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                        if once:
                            delay = min(delay, self.settings.database_wait_seconds / 4, self._wait_left(once))
                        log.warning(
                            "cannot reach the database; retrying",
                            extra={"worker": self.name, "error": str(error), "retry_in": delay},
                        )
                        self._relocated()
                        self._wake.wait(delay)
                        self._wake.clear()
                        continue
                for job in jobs:
                    if job.kind == "recompute":
                        self.stats.claimed += 1
                    future = executor.submit(self._execute, job)
                    future.add_done_callback(lambda _f: self._wake.set())
                    inflight[future] = job
                if jobs and len(inflight) < concurrency:
                    continue
                if once and not jobs and not inflight:
                    break
                if inflight and len(inflight) >= concurrency:
                    wait(list(inflight), timeout=1.0, return_when=FIRST_COMPLETED)
                    continue
                self._wake.wait(timeout=self.settings.sweep_interval_seconds)
                self._wake.clear()
        finally:
            self._stop.set()
            self.ready.set()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            self._shutdown(executor, inflight)
            for thread in self._side:
                thread.join(timeout=2)
            self._pool.close(timeout=2)
            if self._presence is not None:
                with contextlib.suppress(Exception):
                    self._presence.close()
            self.extractor.close()
            log.info("worker stopped", extra={"worker": self.name, **vars(self.stats)})
        return self.stats

    def _start_extractors(self, executor: ThreadPoolExecutor, concurrency: int) -> list[Future[None]]:
        """Each job thread reads messages through an extractor process of its own, started on its first message (a
        second or more on a busy machine): start them with the worker, so that a shopper's first message after a
        start does not wait for it. Only for an extractor that runs in a process (one that pickles): a network
        extractor has nothing to start, and an empty message would be a call."""
        try:
            pickle.dumps(self.extractor.extractor)
        except Exception:
            return []
        barrier = threading.Barrier(concurrency)

        def start() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)  # one per thread: none returns before every thread has one
            self.extractor.read("")

        futures = [executor.submit(start) for _ in range(concurrency)]
        for future in futures:
            future.add_done_callback(lambda _f: self._wake.set())
        return futures

    def _wait_left(self, once: bool) -> float:
        """How long a connection may be waited for now: the usual wait, and with --once never past the moment it
        gives up (database_wait_seconds after the database was last reached)."""
        if not once:
            return self._connect_wait
        left = self._reached_at + self.settings.database_wait_seconds - time.monotonic()
        return max(0.05, min(self._connect_wait, left))

    def _shutdown(self, executor: ThreadPoolExecutor, inflight: dict[Future[None], Job]) -> None:
        pending = [f for f in inflight if not f.done()]
        if pending:
            log.info(
                "waiting for jobs in flight",
                extra={
                    "worker": self.name,
                    "jobs": len(pending),
                    "timeout": self.settings.shutdown_timeout_seconds,
                },
            )
            _, pending_set = wait(pending, timeout=self.settings.shutdown_timeout_seconds)
            if pending_set:
                # Out of time: cancel their queries; _execute then releases the jobs to the queue.
                self._releasing.set()
                with self._lock:
                    conns = list(self._running_conns.values())
                for conn in conns:
                    with contextlib.suppress(Exception):
                        conn.cancel_safe(timeout=2)
                wait(pending_set, timeout=5)
        executor.shutdown(wait=False, cancel_futures=True)

    # -- one job --------------------------------------------------------------------------------------------------
    def _execute(self, job: Job) -> None:
        started = time.monotonic()
        try:
            if self._releasing.is_set():
                raise _Released
            with self._pool.connection(timeout=10) as conn:
                with self._lock:
                    self._running_conns[job.id] = conn
                    self._running_jobs[job.id] = job
                try:
                    store = JobStore(conn)
                    if job.kind == "recompute":
                        self.before_job(job, store)
                        summary, ours = store.run_recompute(job, self.name, self.now())
                    else:
                        summary = self._maintain(job, store)
                        ours = store.complete(job, self.name)
                finally:
                    with self._lock:
                        self._running_conns.pop(job.id, None)
                        self._running_jobs.pop(job.id, None)
            if job.kind == "recompute":
                self.stats.done += 1
            else:
                self.stats.maintenance += 1
            log.info(
                "job done" if job.kind == "recompute" else "maintenance done",
                extra={
                    "worker": self.name,
                    "job": job.id,
                    "user_id": str(job.user_id),
                    "kind": job.kind,
                    "attempt": job.attempts,
                    "lease_held": ours,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                    **summary,
                },
            )
        except BaseException as error:
            self._after_failure(job, error)

    def _maintain(self, job: Job, store: JobStore) -> dict[str, int]:
        """One slice of a maintenance job (about maintenance_slice_seconds); when there is more to do, the next
        slice is queued behind every shopper's job that came in meanwhile."""
        kind = job.kind
        if kind == "recompute":
            raise ValueError("A recompute is not maintenance.")
        deadline = time.monotonic() + self.settings.maintenance_slice_seconds
        done, more = 0, False
        if kind == "expiry":
            done = store.expire_insights(self.now())
        elif kind == "retention":
            while not self._stop.is_set():
                moved = store.archive_interactions(self.settings.retention_months, self.now(), RETENTION_BATCH)
                done += moved
                more = moved > 0  # a whole month or a batch moved: look again
                if not more or time.monotonic() >= deadline:
                    break
            if not more:  # the archive is done: recount how shoppers in general shop (hourly, as retention runs)
                self._count("pattern_population", store.refresh_pattern_population(self.now()))
        elif kind == "contexts":
            while not self._stop.is_set():
                refreshed = store.refresh_stale_contexts(CONTEXT_REFRESH_BATCH)
                done += refreshed
                more = refreshed >= CONTEXT_REFRESH_BATCH
                if not more or time.monotonic() >= deadline:
                    break
        if more:
            store.enqueue_maintenance(kind)
        self._count(_MAINTENANCE_COUNTS[kind], done)
        return {kind: done, "more": int(more)}

    def before_job(self, job: Job, store: JobStore) -> None:
        """Before the recompute: apply what the shopper stated in messages not yet read."""
        if job.user_id is None:
            return  # maintenance: no shopper
        applied = apply_pending_messages(store.conn, job.user_id, self.extractor)
        if applied.messages or applied.unreadable:
            log.info(
                "messages read",
                extra={"worker": self.name, "job": job.id, "user_id": str(job.user_id), **vars(applied)},
            )

    def _after_failure(self, job: Job, error: BaseException) -> None:
        releasing = self._releasing.is_set() or isinstance(error, _Released)
        try:
            with self._pool.connection(timeout=5) as conn:
                store = JobStore(conn)
                if releasing:
                    store.release(job, self.name)
                    self.stats.released += 1
                    log.info("job released", extra={"worker": self.name, "job": job.id})
                    return
                status = store.fail(
                    job,
                    self.name,
                    f"{type(error).__name__}: {error}",
                    self.settings.job_max_attempts,
                    self.backoff_base_seconds,
                )
                self.stats.failed += 1
                log.error(
                    "job failed",
                    extra={
                        "worker": self.name,
                        "job": job.id,
                        "user_id": str(job.user_id),
                        "attempt": job.attempts,
                        "status": status,
                        "error": str(error),
                    },
                )
        except Exception as second:
            log.error(
                "could not record the job's failure; its lease will run out",
                extra={"worker": self.name, "job": job.id, "error": str(error), "then": str(second)},
            )

    # -- connections ----------------------------------------------------------------------------------------------
    def _open_pool(self) -> ConnectionPool:
        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.settings.worker_concurrency + 3,
            kwargs={"autocommit": True, "connect_timeout": 5},
            check=ConnectionPool.check_connection,
            open=False,
            name=f"worker-{self.name}",
        )
        pool.open(wait=False)
        return pool

    def _relocated(self) -> bool:
        """On the embedded default, follow the cluster to its new address (after `db stop` and a new start)."""
        if self._relocate is None:
            return False
        try:
            url = self._relocate()
        except Exception:
            return False
        if url is None or url == self.url:
            return False
        log.warning("the database moved; reconnecting", extra={"worker": self.name, "url": url})
        old, self.url = self._pool, url
        self._pool = self._open_pool()
        old.close(timeout=0)
        return True

    def _presence_pid(self) -> int | None:
        """The backend pid of the connection this worker keeps open while it lives (reopened after a restart);
        the leases it takes record it, so that a killed worker's jobs are reclaimed at once."""
        with self._presence_lock:
            try:
                if self._presence is None or self._presence.closed:
                    self._presence = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                self._presence.execute("select 1")
            except psycopg.Error:
                if self._presence is not None:
                    with contextlib.suppress(Exception):
                        self._presence.close()
                self._presence = None
                raise
            return self._presence.info.backend_pid

    def _heartbeat_loop(self) -> None:
        """Renew the leases of the jobs in flight every third of the lease."""
        interval = self.settings.job_lease_seconds / 3
        while not self._stop.wait(interval):
            with self._lock:
                running = [job.id for job in self._running_jobs.values()]
            if not running:
                continue
            try:
                with self._pool.connection(timeout=interval) as conn:
                    held = JobStore(conn).extend_leases(running, self.name, self.settings.job_lease_seconds)
                log.debug("heartbeat", extra={"worker": self.name, "jobs": len(running), "held": held})
            except _RETRYABLE as error:
                log.warning("heartbeat could not reach the database", extra={"worker": self.name, "error": str(error)})

    # -- side tasks -----------------------------------------------------------------------------------------------
    def _start_side(self, name: str, target: Callable[[], None]) -> None:
        def guarded() -> None:
            while not self._stop.is_set():
                try:
                    target()
                except Exception as error:
                    log.warning("side task failed; restarting", extra={"task": name, "error": str(error)})
                    self._stop.wait(1.0)
                    self._relocated()

        thread = threading.Thread(target=guarded, name=f"{name}-{self.name}", daemon=True)
        thread.start()
        self._side.append(thread)

    def _listen_loop(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"listen {NOTIFY_CHANNEL}")
            log.info("listening", extra={"worker": self.name, "channel": NOTIFY_CHANNEL})
            # A notification may have been missed while (re)connecting: look once.
            self._wake.set()
            while not self._stop.is_set():
                for _notify in conn.notifies(timeout=0.5, stop_after=1):
                    self._wake.set()

    def _realtime_loop(self) -> None:
        from worker.runtime.realtime import run_realtime_wakeups

        run_realtime_wakeups(self.settings, self._wake.set, self._stop)

    def _sweep(self, force: bool = False) -> None:
        """The queue's own upkeep: requeue expired leases, purge finished jobs, and queue the maintenance that is
        due (once per interval across all workers) as jobs behind every shopper's; then wake the loop. Nothing
        here reads the event log: maintenance runs as jobs, never before the worker claims."""
        try:
            with self._pool.connection(timeout=self._wait_left(force)) as conn:
                store = JobStore(conn)
                if store.try_periodic("sweep", max(1.0, self.settings.sweep_interval_seconds / 2), self.name) or force:
                    requeued = store.requeue_expired(self.settings.job_max_attempts)
                    purged = store.purge_finished()
                    store.enqueue_maintenance("contexts")
                    self._count("requeued", requeued)
                    if requeued or purged:
                        log.info("sweep", extra={"worker": self.name, "requeued": requeued, "purged": purged})
                if store.try_periodic("expiry", EXPIRY_INTERVAL_SECONDS, self.name):
                    store.enqueue_maintenance("expiry")
                if store.try_periodic("retention", RETENTION_INTERVAL_SECONDS, self.name):
                    store.enqueue_maintenance("retention")
        except _RETRYABLE as error:
            if not self._stop.is_set():
                log.warning("sweep could not reach the database", extra={"worker": self.name, "error": str(error)})
        finally:
            self._wake.set()

    def _count(self, key: str, value: int) -> None:
        self.stats.periodic[key] = self.stats.periodic.get(key, 0) + value


class _Released(Exception):
    """The worker is shutting down and hands the job back."""


def run_until_idle(settings: Settings | None = None, database_url: str | None = None, **kwargs: Any) -> RunStats:
    """Process every job that is due, then return (what `customer-memory worker --once` does)."""
    return Worker(settings or Settings(), database_url, **kwargs).run(once=True)


class BackgroundWorker:
    """A worker running in a thread of this process, for the demo: start it, record events, `wait_idle()`,
    read the memories, `stop()`."""

    def __init__(
        self,
        settings: Settings | None = None,
        database_url: str | None = None,
        *,
        ready_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        """`ready_timeout`: how long start() waits for the worker to be ready to take jobs (0: return at once, as a
        page that must answer while the worker gets ready beside it does)."""
        self.worker = Worker(settings or Settings(), database_url, **kwargs)
        self._thread = threading.Thread(target=self.worker.run, name="background-worker", daemon=True)
        self._ready_timeout = ready_timeout

    def start(self) -> BackgroundWorker:
        """Start the worker and return once it is ready to take jobs (or `ready_timeout` passed)."""
        self._thread.start()
        self.worker.ready.wait(self._ready_timeout)
        return self

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no job is pending (due now) or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.worker.url, autocommit=True) as conn:
            store = JobStore(conn)
            while time.monotonic() < deadline:
                if store.busy() == 0:
                    return True
                time.sleep(0.05)
        return False

    def stop(self, timeout: float | None = None) -> None:
        self.worker.stop()
        self._thread.join(timeout if timeout is not None else self.worker.settings.shutdown_timeout_seconds + 10)

    def __enter__(self) -> BackgroundWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def background_worker(
    settings: Settings | None = None, database_url: str | None = None, **kwargs: Any
) -> Iterator[BackgroundWorker]:
    with BackgroundWorker(settings, database_url, **kwargs) as running:
        yield running
