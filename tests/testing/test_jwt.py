"""Token checks of the fake server, with an injected wall clock."""

from __future__ import annotations

import warnings
from typing import Any

import jwt
import pytest

from kore_campaign_async.testing._jwt import INVALID_CREDENTIALS, INVALID_TOKEN, TokenVerifier
from tests.helpers.clock import FakeClock

APP = "cs-app"
SECRET = "a-secret-that-is-long-enough-for-hs256!"
NOW = 1_700_000_000.0


def sign(payload: dict[str, Any], secret: str | None = SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # PyJWT takes "" for the unsigned "none" algorithm; its newer stubs refuse None.
        return jwt.encode(payload, "" if secret is None else secret, algorithm=algorithm)


def claims(**extra: Any) -> dict[str, Any]:
    return {"appId": APP, "sub": "s", "iat": NOW, "exp": NOW + 60, **extra}


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def verifier(wall: FakeClock) -> TokenVerifier:
    return TokenVerifier({APP: SECRET, "cs-other": "other-secret"}, wall_clock=wall)


def test_a_token_signed_with_the_app_secret_passes(verifier: TokenVerifier) -> None:
    assert verifier.problem(sign(claims())) is None
    assert verifier.problem(sign({"appId": "cs-other"}, "other-secret")) is None


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (sign(claims(), secret="wrong-secret-wrong-secret-wrong-secret"), INVALID_TOKEN),
        (sign(claims(appId="cs-unknown")), INVALID_CREDENTIALS),
        (sign({"sub": "no app id"}), INVALID_CREDENTIALS),
        (sign(claims(appId=42)), INVALID_CREDENTIALS),
        (sign(claims(), algorithm="HS512"), INVALID_CREDENTIALS),
        (sign(claims(), secret=None, algorithm="none"), INVALID_CREDENTIALS),
        (sign(claims(exp=NOW)), INVALID_TOKEN),
        (sign(claims(exp="soon")), INVALID_TOKEN),
        (sign(claims(nbf=NOW + 5)), INVALID_TOKEN),
        (sign(claims(iat=NOW + 61)), INVALID_TOKEN),
        ("not.a.jwt", INVALID_TOKEN),
        ("", INVALID_TOKEN),
    ],
    ids=[
        "bad-secret",
        "unknown-app",
        "no-app-id",
        "app-id-not-string",
        "hs512",
        "alg-none",
        "expired",
        "exp-not-number",
        "not-before",
        "iat-far-future",
        "garbage",
        "empty",
    ],
)
def test_rejections(verifier: TokenVerifier, token: str, expected: str) -> None:
    assert verifier.problem(token) == expected


def test_iat_up_to_a_minute_ahead_is_tolerated(verifier: TokenVerifier) -> None:
    assert verifier.problem(sign(claims(iat=NOW + 60))) is None


def test_a_cached_token_still_expires(verifier: TokenVerifier, wall: FakeClock) -> None:
    token = sign(claims())
    assert verifier.problem(token) is None
    wall.advance(59.5)
    assert verifier.problem(token) is None
    wall.advance(0.5)
    assert verifier.problem(token) == INVALID_TOKEN


def test_require_jti(wall: FakeClock) -> None:
    strict = TokenVerifier({APP: SECRET}, require_jti=True, wall_clock=wall)
    assert strict.problem(sign(claims())) == INVALID_CREDENTIALS
    assert strict.problem(sign(claims(jti="j-1"))) is None


def test_short_secrets_do_not_warn() -> None:
    short = TokenVerifier({APP: "short"})
    token = sign({"appId": APP}, "short")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert short.problem(token) is None
