"""The boundary between the worker and an extractor: whatever an extractor does with a message (raises, returns
statements that fail validation, runs too long, hangs in a regular expression that holds the GIL), the worker gets
back either validated statements or the reason the message is unreadable. Nothing an extractor does can stop the
worker or block a shopper's later messages.

A deterministic extractor (one that pickles) reads in a child process of its own, kept for the next message and
killed when it overruns the time limit: only a process can be stopped in the middle of a regular expression, and
only then does the worker's heartbeat keep running. An extractor that does not pickle (Claude's client) reads in a
thread; its calls are bounded by their own network timeouts, and a thread that overruns is abandoned.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from pydantic import ValidationError

from worker.extract.model import Extractor, InsightStatement, Said, Statement, Statements

# How long a new child process may take to start and import the extractor.
_START_SECONDS = 60.0
# What a problem says at most (private.extracted_messages.problem holds 1,000 characters).
_PROBLEM_LENGTH = 1000


@dataclass(frozen=True)
class Reading:
    """What the extractor made of one message: statements to apply, or `problem` (then nothing is applied)."""

    statements: list[Said]
    source: str
    problem: str | None = None

    @property
    def readable(self) -> bool:
        return self.problem is None


def validate(raw: Any, source: Any) -> Reading:
    """The extractor's output held to the contract the database enforces (at most 20 statements, keys of at most
    255 characters, a source name of 1 to 100 characters): statements, or why they are not acceptable."""
    name = source if isinstance(source, str) and 1 <= len(source) <= 100 else "unknown"
    try:
        dumped = [s.model_dump(mode="json") if isinstance(s, Statement | InsightStatement) else s for s in raw]
        statements = Statements.model_validate({"statements": dumped}).statements
    except (ValidationError, TypeError) as error:
        return unreadable(name, f"The extractor's output failed validation: {_one_line(error)}")
    if name != source:
        return unreadable(name, f"The extractor named itself {str(source)[:100]!r}, not a name of 1 to 100 characters.")
    return Reading(statements, name)


def unreadable(source: str, problem: str) -> Reading:
    return Reading([], source, problem[:_PROBLEM_LENGTH])


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


class ContainedExtractor:
    """An extractor behind the boundary: `read(message)` never raises and returns within about `timeout_seconds`."""

    def __init__(self, extractor: Extractor, timeout_seconds: float) -> None:
        self.extractor = extractor
        self.name = str(getattr(extractor, "name", type(extractor).__name__))[:100] or "extractor"
        self.timeout_seconds = timeout_seconds
        self._in_process = _pickles(extractor)
        self._local = threading.local()
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="extract")

    def read(self, message: str) -> Reading:
        if self._in_process:
            return self._child().read(message, self.timeout_seconds)
        future = self._threads.submit(self.extractor.extract, message)
        try:
            raw, source = future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            return unreadable(self.name, f"The extractor took longer than {self.timeout_seconds:g} s.")
        except Exception as error:
            return unreadable(self.name, f"The extractor failed: {_one_line(error)}")
        return validate(raw, source)

    def _child(self) -> _Child:
        child: _Child | None = getattr(self._local, "child", None)
        if child is None:
            child = _Child(self.extractor, self.name)
            self._local.child = child
            with self._lock:
                self._children.append(child)
        return child

    def close(self) -> None:
        with self._lock:
            children, self._children = self._children, []
        for child in children:
            child.close()
        self._threads.shutdown(wait=False, cancel_futures=True)


def _pickles(extractor: Extractor) -> bool:
    try:
        pickle.dumps(extractor)
    except Exception:
        return False
    return True


class _Child:
    """One child process that reads messages for one worker thread; replaced when it overruns or dies."""

    def __init__(self, extractor: Extractor, name: str) -> None:
        self.extractor = extractor
        self.name = name
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        context = multiprocessing.get_context("forkserver")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, self.extractor), daemon=True, name="extractor")
        process.start()
        child.close()
        self._process, self._conn = process, parent
        # The time limit is for reading, not for starting a process and importing the extractor.
        if not parent.poll(_START_SECONDS):
            self.close()
            raise OSError(f"the extractor's process did not start in {_START_SECONDS} s")
        parent.recv()
        return parent

    def read(self, message: str, timeout: float) -> Reading:
        try:
            conn = self._conn or self._start()
            conn.send(message)
            if not conn.poll(timeout):
                self.close()
                return unreadable(self.name, f"The extractor took longer than {timeout:g} s.")
            outcome, first, second = conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.close()  # the child died (killed, out of memory): the next message gets a new one
            return unreadable(self.name, "The extractor's process died or did not start for this message.")
        if outcome == "error":
            return unreadable(self.name, f"The extractor failed: {first}")
        return validate(first, second)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=2)
        self._process = self._conn = None


def _serve(conn: Connection, extractor: Extractor) -> None:
    """The child's loop: a message in, ("ok", statements as dicts, source) or ("error", text, None) out."""
    conn.send(("ready", None, None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        try:
            statements, source = extractor.extract(message)
            dumped = [
                s.model_dump(mode="json") if isinstance(s, Statement | InsightStatement) else s for s in statements
            ]
            conn.send(("ok", dumped, source))
        except Exception as error:
            conn.send(("error", _one_line(error)[:_PROBLEM_LENGTH], None))
