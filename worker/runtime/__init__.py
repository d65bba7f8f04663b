"""The worker's runtime: the job store (every query the worker sends), the worker loop with its wake-ups
(LISTEN/NOTIFY, an optional Supabase Realtime subscription, an APScheduler sweep), and structured logs."""

from worker.runtime.store import Job, JobStore
from worker.runtime.worker import BackgroundWorker, RunStats, Worker, run_until_idle

__all__ = [
    "BackgroundWorker",
    "Job",
    "JobStore",
    "RunStats",
    "Worker",
    "run_until_idle",
]
