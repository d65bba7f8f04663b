"""Every query the worker sends, in one place. Each call is one transaction in which the connection acts as
`service_role` exactly as a PostgREST request would (worker.db.request), so the worker_* grants are exercised as on
Supabase even though the worker connects as `postgres`. Rows come back as tuples whatever the connection's row
factory: the store reads them through its own cursors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

import psycopg
from psycopg.rows import TupleRow, tuple_row

from worker.db.request import set_request_context

# The job kinds besides a shopper's recompute, and the periodic runs that queue them, as
# private.maintenance_kinds() and private.periodic_run_names() list them in supabase/schemas/00_constants.sql
# (tests/test_type_lists.py holds them equal).
MaintenanceKind = Literal["retention", "expiry", "contexts"]
PeriodicRun = Literal["sweep", "expiry", "retention"]
MAINTENANCE_KINDS: tuple[MaintenanceKind, ...] = get_args(MaintenanceKind)
PERIODIC_RUNS: tuple[PeriodicRun, ...] = get_args(PeriodicRun)


@dataclass(frozen=True)
class Job:
    id: int
    user_id: UUID | None  # None for maintenance (one of MAINTENANCE_KINDS)
    kind: Literal["recompute"] | MaintenanceKind
    attempts: int


class JobStore:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    @contextmanager
    def _as_service(self) -> Iterator[psycopg.Cursor[TupleRow]]:
        with self.conn.transaction():
            set_request_context(self.conn, "service_role", path="/worker")
            yield self.conn.cursor(row_factory=tuple_row)

    def _scalar(self, query: str, params: tuple[Any, ...]) -> Any:
        with self._as_service() as cursor:
            return _first(cursor.execute(query, params))

    # -- the queue ------------------------------------------------------------------------------------------------
    def claim(
        self, worker: str, limit: int, lease_seconds: int, worker_pid: int | None = None, busy_seconds: int = 10
    ) -> list[Job]:
        with self._as_service() as cursor:
            rows = cursor.execute(
                "select job_id, user_id, kind, attempts from public.worker_claim_jobs(%s, %s, %s, %s, %s)",
                (worker, limit, lease_seconds, worker_pid, busy_seconds),
            ).fetchall()
        return [Job(*row) for row in rows]

    def extend_leases(self, job_ids: list[int], worker: str, lease_seconds: int) -> int:
        return int(self._scalar("select public.worker_extend_leases(%s, %s, %s)", (job_ids, worker, lease_seconds)))

    def complete(self, job: Job, worker: str) -> bool:
        return bool(self._scalar("select public.worker_complete_job(%s, %s)", (job.id, worker)))

    def fail(self, job: Job, worker: str, error: str, max_attempts: int, base_seconds: float = 1.0) -> str | None:
        return self._scalar(  # type: ignore[no-any-return]
            "select public.worker_fail_job(%s::bigint, %s, %s, %s::integer, %s::numeric)",
            (job.id, worker, error, max_attempts, base_seconds),
        )

    def release(self, job: Job, worker: str) -> bool:
        return bool(self._scalar("select public.worker_release_job(%s, %s)", (job.id, worker)))

    def requeue_expired(self, max_attempts: int) -> int:
        return int(self._scalar("select public.worker_requeue_expired(%s)", (max_attempts,)))

    def try_periodic(self, name: PeriodicRun, interval_seconds: float, worker: str) -> bool:
        return bool(
            self._scalar("select public.worker_try_periodic(%s, %s::numeric, %s)", (name, interval_seconds, worker))
        )

    def purge_finished(self, keep_seconds: float = 86400) -> int:
        return int(self._scalar("select public.worker_purge_finished(%s::numeric)", (keep_seconds,)))

    def refresh_brand_catalog(self) -> int:
        """Recount the brands on offer per category (a brand preference needs rivals); returns the categories."""
        return int(self._scalar("select public.worker_refresh_brand_catalog()", ()))

    def enqueue_maintenance(self, kind: MaintenanceKind) -> bool:
        """Queue a maintenance job behind every shopper's; false if one is pending."""
        return bool(self._scalar("select public.worker_enqueue_maintenance(%s)", (kind,)))

    def refresh_pattern_population(self, now: datetime | None = None) -> int:
        """Recount how shoppers in general shop (the shares a pattern's lift is measured against) and how long they
        go between buying the same item (a favourite's buy-again prior); 0 while there are too few shoppers."""
        return int(self._scalar("select public.worker_refresh_pattern_population(coalesce(%s, now()))", (now,)))

    def enqueue_all(self) -> int:
        return int(self._scalar("select public.worker_enqueue_all()", ()))

    def outstanding(self) -> int:
        """Jobs pending or running (the worker's own view, as postgres: private is not the service role's)."""
        query = "select count(*) from private.jobs where status in ('pending', 'running')"
        return int(_first(self.conn.cursor(row_factory=tuple_row).execute(query)))

    def busy(self) -> int:
        """Jobs due now or running: 0 when the queue has nothing left to do (the worker's own view, as above)."""
        query = (
            "select count(*) from private.jobs where (status = 'pending' and run_after <= now()) or status = 'running'"
        )
        return int(_first(self.conn.cursor(row_factory=tuple_row).execute(query)))

    # -- the work -------------------------------------------------------------------------------------------------
    def recompute(self, user_id: UUID, now: datetime | None = None) -> dict[str, int]:
        return self._scalar(  # type: ignore[no-any-return]
            "select public.worker_recompute_user(%s, coalesce(%s, now()))", (user_id, now)
        )

    def run_recompute(self, job: Job, worker: str, now: datetime | None = None) -> tuple[dict[str, int], bool]:
        """Recompute, store the shopper's precomputed memory_context document and mark the job done in one
        transaction: a worker killed in between leaves no trace but the lease, which runs out and hands the job to
        another worker (the recompute is idempotent)."""
        assert job.user_id is not None, "a recompute has a shopper"
        with self._as_service() as cursor:
            summary = _first(
                cursor.execute("select public.worker_recompute_user(%s, coalesce(%s, now()))", (job.user_id, now))
            )
            cursor.execute("select public.worker_refresh_context(%s)", (job.user_id,))
            ours = _first(cursor.execute("select public.worker_complete_job(%s, %s)", (job.id, worker)))
        return summary, bool(ours)

    def refresh_stale_contexts(self, limit: int = 100) -> int:
        """Compose up to `limit` precomputed memory_context documents that are missing or stale by time."""
        return int(self._scalar("select public.worker_refresh_stale_contexts(%s)", (limit,)))

    def expire_insights(self, now: datetime | None = None) -> int:
        return int(self._scalar("select public.worker_expire_insights(coalesce(%s, now()))", (now,)))

    def archive_interactions(self, months: int, now: datetime | None = None, batch: int = 10000) -> int:
        return int(
            self._scalar("select public.worker_archive_interactions(%s, coalesce(%s, now()), %s)", (months, now, batch))
        )

    # -- stated preferences ---------------------------------------------------------------------------------------
    def pending_messages(self, user_id: UUID, limit: int) -> list[tuple[UUID, str | None]]:
        """The shopper's own chat messages not yet read, oldest first: (interaction id, content)."""
        with self._as_service() as cursor:
            query = "select interaction_id, content from public.worker_pending_messages(%s, %s)"
            return [(row[0], row[1]) for row in cursor.execute(query, (user_id, limit)).fetchall()]

    def apply_stated_preferences(self, user_id: UUID, interaction_id: UUID, statements: str, extractor: str) -> int:
        """Apply what one message states (`statements`: a JSON array), once; returns how many were applied."""
        return int(
            self._scalar(
                "select public.worker_apply_stated_preferences(%s, %s, %s::jsonb, %s)",
                (user_id, interaction_id, statements, extractor),
            )
            or 0
        )

    def skip_message(self, user_id: UUID, interaction_id: UUID, extractor: str, problem: str) -> bool:
        """Record a message the extractor could not read as unreadable, with why; false when already read."""
        return bool(
            self._scalar(
                "select public.worker_skip_message(%s, %s, %s, %s)", (user_id, interaction_id, extractor, problem)
            )
        )


def _first(cursor: psycopg.Cursor[TupleRow]) -> Any:
    """The first column of the first row (None without a row)."""
    row = cursor.fetchone()
    return None if row is None else row[0]
