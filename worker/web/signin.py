"""The local sign-in: GoTrue's password grant, for the embedded default where no Auth server runs.

`POST /auth/v1/token?grant_type=password` with `{"email", "password"}` answers as GoTrue does (supabase/auth,
internal/api/token.go): 200 with `{access_token, token_type: "bearer", expires_in, expires_at, user}`, or 400
with `{code, error_code, msg}` (`invalid_credentials` for an unknown email or a wrong password alike,
`email_not_confirmed`, `user_banned`), so the page signs in the same way against either. It reads auth.users as
GoTrue does, connected as `supabase_auth_admin` (the owner of the auth schema), and checks the bcrypt hash in
`encrypted_password`. The access token carries GoTrue's claims (sub, aud, exp, iat, iss, email, phone,
app_metadata, user_metadata, role, aal, amr, session_id, is_anonymous), lives LOCAL_TOKEN_SECONDS and is signed
with a secret made per server process, so a restart signs everyone out. There is no refresh token: sign in again.

The server offers it only when it is not configured for a Supabase project (worker/web/settings.py); there, the
page signs in with Supabase Auth itself. GoTrue cannot run here: tests hold this module to GoTrue's contract (the
request, the response shape, the claims) and prove that the route is refused on a Supabase configuration.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bcrypt
import jwt
import psycopg
from psycopg.rows import dict_row

from worker.web.tokens import AUDIENCE, SHOPPER_ROLE

LOCAL_ISSUER = "customer-memory-local-auth"  # not a Supabase project's issuer: its tokens are refused there
LOCAL_TOKEN_SECONDS = 900
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; GoTrue refuses longer ones too

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class SignInRefused(Exception):
    """A refused password grant: GoTrue's 400 body."""

    def __init__(self, error_code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_code, self.message, self.status = error_code, message, status

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "error_code": self.error_code, "msg": self.message}


@dataclass(frozen=True)
class LocalAuth:
    """Signs seed shoppers in with their password; `secret` signs (and the server verifies) their tokens."""

    connect: Connect
    secret: str

    def password_grant(self, email: str, password: str) -> dict[str, Any]:
        if not email or not password:
            raise SignInRefused("validation_failed", "Enter your email and your password.")
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            raise SignInRefused("invalid_credentials", "Invalid login credentials")
        user = self._user(email)
        hashed = (user or {}).get("encrypted_password") or ""
        # An unknown email and a wrong password get the same answer (and a similar time), as in GoTrue.
        if user is None or not _password_matches(password, hashed):
            raise SignInRefused("invalid_credentials", "Invalid login credentials")
        if user["email_confirmed_at"] is None:
            raise SignInRefused("email_not_confirmed", "Email not confirmed")
        if user["banned_until"] is not None and user["banned_until"] > datetime.now(user["banned_until"].tzinfo):
            raise SignInRefused("user_banned", "User is banned")
        return self._session(user)

    def _user(self, email: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row: dict[str, Any] | None = (
                conn.cursor(row_factory=dict_row)
                .execute(
                    "select id, aud, role, email, phone, encrypted_password, email_confirmed_at, banned_until,"
                    " raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at"
                    " from auth.users where lower(email) = lower(%s) and deleted_at is null",
                    (email.strip(),),
                )
                .fetchone()
            )
        return row

    def _session(self, user: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": LOCAL_ISSUER,
            "sub": str(user["id"]),
            "aud": AUDIENCE,
            "exp": now + LOCAL_TOKEN_SECONDS,
            "iat": now,
            "email": user["email"],
            "phone": user["phone"] or "",
            "app_metadata": user["raw_app_meta_data"] or {},
            "user_metadata": user["raw_user_meta_data"] or {},
            "role": SHOPPER_ROLE,
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": str(uuid.uuid4()),
            "is_anonymous": bool(user["is_anonymous"]),
        }
        token = jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": "local"})
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": LOCAL_TOKEN_SECONDS,
            "expires_at": claims["exp"],
            "user": {
                "id": str(user["id"]),
                "aud": user["aud"],
                "role": user["role"],
                "email": user["email"],
                "email_confirmed_at": user["email_confirmed_at"].isoformat(),
                "app_metadata": claims["app_metadata"],
                "user_metadata": claims["user_metadata"],
                "is_anonymous": claims["is_anonymous"],
                "created_at": user["created_at"].isoformat() if user["created_at"] else None,
            },
        }


# Compared against when the user is unknown, so that the answer takes about as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds=10))


def _password_matches(password: str, hashed: str) -> bool:
    if not hashed.startswith("$2"):
        bcrypt.checkpw(password.encode(), _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:  # a malformed hash
        return False
