"""`customer-memory worker`: run the worker until SIGTERM (or Ctrl-C), or with `--once` process everything due
and exit (for cron and for tests): status 0, 1 when a job failed, 2 when the database stayed unreachable."""

from __future__ import annotations

import argparse
import signal
from datetime import datetime
from types import FrameType

from worker.config import Settings
from worker.db.local import database_url, locate
from worker.runtime import logs
from worker.runtime.worker import Worker


def concurrency(text: str) -> int:
    """--concurrency: 1 to 64 jobs at once (the bounds of CMS_WORKER_CONCURRENCY)."""
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, not {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="apply what shoppers say in chat, re-derive their memories, expire and archive",
        description=(
            "For each shopper with new events: apply what they said in chat (stated preferences and insights), "
            "then re-derive the memories learned from their events. On a schedule: expire insights, archive old "
            "interactions, refresh stale memory blocks. Runs until SIGTERM or Ctrl-C; --once processes what is due "
            "and exits."
        ),
    )
    parser.add_argument("--once", action="store_true", help="process every job that is due, then exit")
    parser.add_argument("--concurrency", type=concurrency, help="jobs at once (default CMS_WORKER_CONCURRENCY)")
    parser.add_argument(
        "--as-of",
        type=datetime.fromisoformat,
        help="derive as of this moment instead of now (ISO-8601; for replaying old data sets)",
    )
    parser.add_argument("--name", help="this worker's name in the queue (default host:pid:random)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": args.concurrency})
    logs.configure(settings.log_level)
    as_of = args.as_of
    worker = Worker(settings, database_url(settings), name=args.name, now=lambda: as_of, relocate=locate(settings))

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stats = worker.run(once=args.once)
    if stats.unreachable:
        return 2  # --once could not reach the database for CMS_DATABASE_WAIT_SECONDS
    return 0 if stats.failed == 0 or not args.once else 1
