"""The shopper's export as one JSON document of any size: read a page at a time (export_memories_page, at most
about 8 MiB each) and written out as it is read, so neither the database nor this process ever holds more than a
page. The document has export_memories()' shape (format customer-memory-export, version 1, the same sections in
the same order); the server's route and `customer-memory export` both write it from here.

The pages are separate calls, so separate transactions: a row written while the export runs may or may not be in
it, as with any download taken while the account is in use. A page that fails after the first has been sent
cannot become an error status any more; the document then stops short (it is not valid JSON), never silently
incomplete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from typing import Any, get_args

from worker.client.memory import MemoryClient
from worker.client.responses import ExportPage, ExportSection

SECTIONS: tuple[ExportSection, ...] = get_args(ExportSection)
# The most export_memories_page takes: a page also stops at about 8 MiB, which bounds memory either way, and fewer
# calls are faster (a heavy shopper's 5.7 MiB: 287 ms in pages of 10,000 rows, 373 ms in pages of 1,000).
PAGE_ROWS = 10000


def export_pages(memory: MemoryClient, max_rows: int = PAGE_ROWS) -> Iterator[ExportPage]:
    """Every page of the shopper's export, in order, each fetched only when the previous one has been used."""
    after: str | None = None
    while True:
        page = memory.export_memories_page(after, max_rows)
        yield page
        if page.next is None:
            return
        after = page.next


def export_document(memory: MemoryClient, max_rows: int = PAGE_ROWS) -> Iterator[str]:
    """The export as JSON text, one piece per page. The first page is read before the first piece is made: an
    error of the first call (a refused token, an unreachable database) is raised before anything is written."""
    pages = export_pages(memory, max_rows)
    first = next(pages)
    header = {
        "format": "customer-memory-export",
        "version": 1,
        "exported_at": datetime.now(UTC).isoformat(),
        "user_id": str(first.user_id),
    }
    yield _dumps(header)[:-1]  # the object stays open for the sections
    expected = iter(SECTIONS)
    current: ExportSection | None = None
    rows_written = 0
    for page in chain([first], pages):
        if page.section != current:
            if page.section != next(expected, None):
                raise ValueError(f"export_memories_page returned section {page.section!r} out of order")
            yield ("]" if current is not None else "") + f',\n"{page.section}": ['
            current, rows_written = page.section, 0
        if page.rows:
            yield (",\n" if rows_written else "\n") + ",\n".join(_dumps(row) for row in page.rows)
            rows_written += len(page.rows)
    if current != SECTIONS[-1] or next(expected, None) is not None:
        raise ValueError("export_memories_page ended before the last section")
    yield "]\n}\n"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
