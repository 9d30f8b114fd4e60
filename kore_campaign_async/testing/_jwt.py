"""Check the ``auth`` JWT as Kore does: HS256, signed with the secret of the app in ``appId``."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import jwt

from .._config import JWT_ALGORITHM

INVALID_CREDENTIALS: Final = "Invalid SDK credentials"
INVALID_TOKEN: Final = "Invalid JWT token"
# Kore tolerates a little clock skew on `iat`, not a token minted minutes ahead.
IAT_FUTURE_TOLERANCE: Final = 60.0
# Verified tokens are remembered so a client reusing one token pays for one HMAC, not one per
# request; the cache is dropped wholesale when it grows past this many tokens.
_CACHE_SIZE: Final = 4096
# PyJWT >= 2.10 warns about HMAC secrets under 32 bytes; older releases have no such class.
_SHORT_KEY_WARNING: Final[type[Warning]] = getattr(jwt, "InsecureKeyLengthWarning", UserWarning)


@attrs.frozen
class _TimeClaims:
    exp: float | None
    nbf: float | None
    iat: float | None


class TokenVerifier:
    """Verify ``auth`` tokens against a fixed set of apps (client id -> client secret)."""

    def __init__(
        self,
        apps: Mapping[str, str],
        *,
        require_jti: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._apps = dict(apps)
        self._require_jti = require_jti
        self._now = wall_clock
        self._verified: dict[str, _TimeClaims] = {}

    def problem(self, token: str) -> str | None:
        """Return why ``token`` is rejected, or None when it is valid now."""
        claims = self._verified.get(token)
        if claims is None:
            checked = self._check_signed(token)
            if isinstance(checked, str):
                return checked
            claims = checked
            if len(self._verified) >= _CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        return self._time_problem(claims)

    def _check_signed(self, token: str) -> _TimeClaims | str:
        try:
            # PyJWT's public functions of every release the package supports (2.8 has no
            # module-level decode_complete).
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return INVALID_TOKEN
        if header.get("alg") != JWT_ALGORITHM:
            return INVALID_CREDENTIALS
        app_id = payload.get("appId")
        secret = self._apps.get(app_id) if isinstance(app_id, str) else None
        if secret is None:
            return INVALID_CREDENTIALS
        if self._require_jti and not payload.get("jti"):
            return INVALID_CREDENTIALS
        try:
            with warnings.catch_warnings():
                # Kore accepts whatever secret it issued; short test secrets are not our concern.
                warnings.simplefilter("ignore", _SHORT_KEY_WARNING)
                # Time claims are checked below against the injected wall clock, so PyJWT checks
                # the signature alone.
                jwt.decode(
                    token,
                    secret,
                    algorithms=[JWT_ALGORITHM],
                    options={
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                        "verify_aud": False,
                        "verify_iss": False,
                        "verify_sub": False,
                        "verify_jti": False,
                    },
                )
        except jwt.PyJWTError:
            return INVALID_TOKEN
        try:
            exp, nbf, iat = (_number(payload, claim) for claim in ("exp", "nbf", "iat"))
        except ValueError:
            return INVALID_TOKEN
        return _TimeClaims(exp=exp, nbf=nbf, iat=iat)

    def _time_problem(self, claims: _TimeClaims) -> str | None:
        now = self._now()
        if claims.exp is not None and claims.exp <= now:
            return INVALID_TOKEN
        if claims.nbf is not None and claims.nbf > now:
            return INVALID_TOKEN
        if claims.iat is not None and claims.iat > now + IAT_FUTURE_TOLERANCE:
            return INVALID_TOKEN
        return None


def _number(payload: Mapping[str, Any], claim: str) -> float | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(claim)
    return float(value)
