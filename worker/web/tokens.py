"""The shopper's identity for the HTTP API: a Supabase access token, verified the way Supabase issues it.

GoTrue (Supabase Auth) signs an access token either with the project's JWT secret (HS256, the legacy system) or
with one of its asymmetric signing keys (RS256 or ES256), whose public halves it publishes as a JWKS at
`<project>/auth/v1/.well-known/jwks.json`; the header's `kid` names the key. A token we accept:
- is signed by one of those (the algorithm is taken from the key, never from the token: no `none`, no HS256
  with a public key as the secret);
- has `aud` = "authenticated", an `exp` in the future and an `iat`, and `iss` = `<project>/auth/v1`;
- is a signed-in user's: `role` = "authenticated" and `sub` a UUID. The anon key (role "anon") and the
  service-role key are not shoppers and are refused.
GoTrue itself cannot run here; the tests sign tokens with the same claims and keys GoTrue uses (and serve a JWKS
over HTTP) and check each refusal.

The embedded default has no Auth server: `LocalAuth` plays GoTrue's part for the seed's shoppers, signing
short-lived HS256 tokens with a secret generated per server process (see worker/web/signin.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import jwt

AUDIENCE = "authenticated"
SHOPPER_ROLE = "authenticated"
ASYMMETRIC = ("RS256", "ES256")
LEEWAY_SECONDS = 10  # clock skew tolerated on exp/iat, as small as GoTrue's clients allow
JWKS_PATH = "/auth/v1/.well-known/jwks.json"
# A token naming an unknown kid triggers a JWKS refetch (keys rotate), at most this often, so forged kids
# cannot make the server hammer the Auth server.
JWKS_REFETCH_SECONDS = 30.0
JWKS_MAX_AGE_SECONDS = 600.0


class InvalidToken(Exception):
    """The request carries no usable shopper token: answered with 401 and this sentence."""


@dataclass(frozen=True)
class Shopper:
    """A verified signed-in shopper: their id, the token itself (forwarded to PostgREST), and its claims."""

    user_id: UUID
    access_token: str = field(repr=False)
    claims: dict[str, Any] = field(repr=False)

    @property
    def email(self) -> str | None:
        email = self.claims.get("email")
        return email if isinstance(email, str) else None


class JwksKeys:
    """The project's public signing keys, fetched from its JWKS URL and cached; refetched when a token names a
    key we do not have (rotation), at most every JWKS_REFETCH_SECONDS."""

    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self._url = url
        self._http = http or httpx.Client(timeout=5.0)
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")

    def key(self, kid: str | None) -> jwt.PyJWK:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if (kid not in self._keys and age >= JWKS_REFETCH_SECONDS) or age >= JWKS_MAX_AGE_SECONDS:
                self._refetch()
            found = self._keys.get(kid or "")
        if found is None:
            raise InvalidToken("The access token was signed with a key this project does not publish.")
        return found

    def _refetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            response = self._http.get(self._url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # Keep the keys we had: an Auth server hiccup must not sign everyone out.
            if not self._keys:
                raise InvalidToken(f"The project's signing keys could not be fetched from {self._url}.") from exc
            return
        self._keys = {key.key_id: key for key in keys if key.key_id and key.algorithm_name in ASYMMETRIC}


class TokenVerifier:
    """Verifies access tokens of one issuer: with `secret` (HS256) and/or `jwks` (RS256/ES256)."""

    def __init__(self, issuer: str, *, secret: str | None = None, jwks: JwksKeys | None = None) -> None:
        if secret is None and jwks is None:
            raise ValueError("a token verifier needs the JWT secret, the JWKS, or both")
        self.issuer, self._secret, self._jwks = issuer, secret, jwks

    def verify(self, token: str) -> Shopper:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is not a JWT.") from exc
        algorithm = header.get("alg")
        key: Any
        if algorithm == "HS256" and self._secret is not None:
            key = self._secret
        elif algorithm in ASYMMETRIC and self._jwks is not None:
            signing_key = self._jwks.key(header.get("kid"))
            if signing_key.algorithm_name != algorithm:
                raise InvalidToken("The access token's algorithm does not match its signing key.")
            key = signing_key.key
        else:
            raise InvalidToken(f"Access tokens signed with {algorithm!r} are not accepted here.")
        try:
            # The signature and the times first; what the claims say is checked below, in words a caller can act on.
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat"], "verify_aud": False, "verify_iss": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The access token has expired: sign in again.") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("The access token's signature is not valid.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"The access token is not valid: {exc}.") from exc
        if claims.get("role") != SHOPPER_ROLE:
            raise InvalidToken(
                "Sign in first: this is not a signed-in shopper's token (its role is not authenticated)."
            )
        audience = claims.get("aud")
        if audience != AUDIENCE and not (isinstance(audience, list) and AUDIENCE in audience):
            raise InvalidToken("The access token is not meant for signed-in users (audience).")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("The access token was issued by another project.")
        try:
            user_id = UUID(str(claims["sub"]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken("The access token's subject is not a user id.") from exc
        return Shopper(user_id, token, claims)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise InvalidToken("Sign in first: send your access token as Authorization: Bearer <token>.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("The Authorization header must be Bearer <access token>.")
    return token.strip()
