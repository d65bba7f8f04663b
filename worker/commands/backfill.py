"""`customer-memory backfill`: rebuild every shopper's patterns, inferred preferences and insights from the event
log (after a rule changed, a bug was fixed, or a data set was loaded), through the job queue, with progress."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from datetime import datetime

import psycopg

from worker.commands.worker import concurrency
from worker.config import Settings
from worker.db.local import database_url, locate
from worker.runtime import logs
from worker.runtime.store import JobStore
from worker.runtime.worker import Worker


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("backfill", help="recompute every shopper's memories from the log, with progress")
    parser.add_argument("--as-of", type=datetime.fromisoformat, help="derive as of this moment (ISO-8601)")
    parser.add_argument("--concurrency", type=concurrency, help="jobs at once (default CMS_WORKER_CONCURRENCY)")
    parser.set_defaults(handler=run)


def progress_line(done: int, total: int, elapsed: float, width: int = 30) -> str:
    share = done / total if total else 1.0
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else float("inf")
    bar = "#" * int(share * width)
    eta_text = f"{eta:.0f} s left" if eta != float("inf") else "starting"
    return f"[{bar:<{width}}] {done}/{total} shoppers  {rate:.0f}/s  {eta_text}"


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": args.concurrency})
    logs.configure("WARNING")  # the progress line is the output; warnings and errors still show
    url = database_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        store = JobStore(conn)
        store.refresh_pattern_population(args.as_of)  # what a pattern's lift and a buy-again prior are measured on
        store.enqueue_all()
        total = store.outstanding()
        as_of = args.as_of
        # A name of its own: a second backfill never completes this one's jobs, and a killed one's are reclaimed.
        name = f"backfill:{socket.gethostname()}:{os.getpid()}"
        worker = Worker(settings, url, name=name, now=lambda: as_of, listen=False, relocate=locate(settings))
        thread = threading.Thread(target=worker.run, kwargs={"once": True}, name="backfill")
        started = time.monotonic()
        thread.start()
        tty = sys.stderr.isatty()
        last_line = 0.0
        while thread.is_alive():
            thread.join(0.25)
            now = time.monotonic()
            if tty or now - last_line >= 2 or not thread.is_alive():
                line = progress_line(min(worker.stats.done, total), total, now - started)
                sys.stderr.write(("\r" + line) if tty else (line + "\n"))
                sys.stderr.flush()
                last_line = now
        elapsed = time.monotonic() - started
    sys.stderr.write(
        ("\n" if tty else "") + f"recomputed {worker.stats.done} shoppers in {elapsed:.1f} s"
        f" ({worker.stats.failed} failed attempts)\n"
    )
    if worker.stats.unreachable:
        return 2
    return 0 if worker.stats.failed == 0 else 1
