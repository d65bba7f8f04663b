"""The memory API's errors, whichever way a call went (PostgREST or a direct connection).

Both adapters turn their driver's error into one of these at the seam, from the SQLSTATE the database raised
(or PostgREST's own PGRST/PT code), following PostgREST's own mapping to HTTP statuses (supabase-platform.md
section 6), so that callers handle one set of exceptions and an HTTP layer can answer with `error.status`.
"""

from __future__ import annotations

from typing import Any


class MemoryApiError(Exception):
    """A call to the memory API failed; `code` is the SQLSTATE or PostgREST code, `status` the HTTP status."""

    status = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        hint: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.details, self.hint = message, code, details, hint
        if status is not None:
            self.status = status


class InvalidInput(MemoryApiError):
    """The arguments were wrong (22023, P0001, other 22xxx/23xxx): fix the call, do not retry it."""

    status = 400


class NotAuthorized(MemoryApiError):
    """No shopper, or a caller not allowed to do this (42501, a bad JWT): 401 for anon, 403 otherwise."""

    status = 403


class NotFound(MemoryApiError):
    """The function (or something it needs) does not exist (42883, PGRST202): a deployment out of date."""

    status = 404


class Conflict(MemoryApiError):
    """It contradicts what is stored (23505, 23503), e.g. an order recorded before with other contents."""

    status = 409


class ServiceUnavailable(MemoryApiError):
    """The database or PostgREST was unreachable or gave up (08xxx, 53xxx, 57xxx, 502-504): retry later."""

    status = 503


_BY_STATUS: dict[int, type[MemoryApiError]] = {
    401: NotAuthorized,
    403: NotAuthorized,
    404: NotFound,
    409: Conflict,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}
_CONFLICT = frozenset({"23505", "23503"})
_NOT_FOUND = frozenset({"42883", "42P01", "PGRST202", "PGRST205"})
_BAD_JWT = frozenset({"PGRST300", "PGRST301", "PGRST302"})


def error_from(
    code: str | None,
    message: str | None,
    *,
    details: Any = None,
    hint: str | None = None,
    anonymous: bool,
    status: int | None = None,
) -> MemoryApiError:
    """The exception for an error the database or PostgREST reported. `anonymous`: the caller had no JWT,
    which makes a permission error a 401 (PostgREST answers 401 for its anon role and 403 for everyone else).
    `status`: the HTTP status PostgREST answered with, when known: it is kept as is (PostgREST's own codes,
    PGRST000 503 and the like, are too many to mirror here).
    """
    code = code or ""
    text = message or f"the memory API failed with code {code or 'unknown'}"
    extra: dict[str, Any] = {"code": code or None, "details": details, "hint": hint}
    if status is not None and status >= 400:
        kind = _BY_STATUS.get(status, InvalidInput if status < 500 else MemoryApiError)
        return kind(text, status=status, **extra)
    if code == "42501":
        return NotAuthorized(text, status=401 if anonymous else 403, **extra)
    if code in _BAD_JWT:
        return NotAuthorized(text, status=401, **extra)
    if code in _CONFLICT:
        return Conflict(text, **extra)
    if code in _NOT_FOUND:
        return NotFound(text, **extra)
    status = _status_in(code)
    if status is not None:
        kind = _BY_STATUS.get(status, InvalidInput if 400 <= status < 500 else MemoryApiError)
        return kind(text, status=status, **extra)
    if code.startswith(("08", "53", "57")):
        return ServiceUnavailable(text, **extra)
    if code.startswith(("22", "23", "P0001", "PGRST1")):
        return InvalidInput(text, **extra)
    return MemoryApiError(text, **extra)


def _status_in(code: str) -> int | None:
    """PT<status> raised on purpose, or a bare HTTP status (PostgREST's client reports one for non-JSON
    bodies)."""
    digits = code[2:] if code.startswith("PT") else code
    if len(digits) == 3 and digits.isdigit() and (code.startswith("PT") or digits[0] in "45"):
        return int(digits)
    return None
