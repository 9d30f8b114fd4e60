"""Settings from flags, then environment, then defaults; secrets never in messages or reprs."""

from __future__ import annotations

import pytest

from kore_campaign_async.cli._commands import make_client
from kore_campaign_async.cli._config import DEFAULT_HOST, Settings, resolve_settings
from kore_campaign_async.cli._exit import UsageError
from kore_campaign_async.cli._parser import build_parser

SECRET = "s3cr3t-value-never-shown"
TOKEN = "eyJ.token.never-shown"


def usage_error(flags: dict[str, object], env: dict[str, str]) -> str:
    with pytest.raises(UsageError) as caught:
        resolve_settings(flags, env).credentials()
    return str(caught.value)


def test_defaults_match_kore() -> None:
    settings = resolve_settings({}, {})
    assert settings == Settings()
    assert settings.host == DEFAULT_HOST == "https://platform.kore.ai"
    assert (settings.api_version, settings.rate_limit, settings.rate_period) == ("v2", 60, 60.0)


def test_flags_beat_environment_and_empty_values_count_as_unset() -> None:
    env = {"KORE_HOST": "https://env.example", "KORE_ACCOUNT_ID": "env-acct", "KORE_IID": ""}
    settings = resolve_settings({"account_id": "flag-acct", "iid": None}, env)
    assert settings.host == "https://env.example"
    assert settings.account_id == "flag-acct"
    assert settings.iid is None


def test_numbers_and_version_are_parsed_from_either_source() -> None:
    env = {"KORE_RATE_LIMIT": "120", "KORE_API_VERSION": "v1"}
    settings = resolve_settings({"rate_period": "30", "max_concurrency": "4"}, env)
    assert (settings.rate_limit, settings.rate_period, settings.max_concurrency) == (120, 30.0, 4)
    assert settings.api_version == "v1"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"api_version": "v3"}, "--api-version or KORE_API_VERSION must be v1 or v2, got 'v3'"),
        (
            {"rate_limit": "0"},
            "--rate-limit or KORE_RATE_LIMIT must be a positive integer, got '0'",
        ),
        ({"rate_limit": "ten"}, "--rate-limit or KORE_RATE_LIMIT must be a positive integer"),
        ({"rate_period": "inf"}, "--rate-period or KORE_RATE_PERIOD must be a positive number"),
        ({"rate_period": "-1"}, "--rate-period or KORE_RATE_PERIOD must be a positive number"),
        ({"max_concurrency": "1.5"}, "--max-concurrency or KORE_MAX_CONCURRENCY must be a"),
    ],
)
def test_bad_values_name_flag_and_variable(flags: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_settings(flags, {})
    assert str(caught.value).startswith(message)


def test_client_credentials_from_environment() -> None:
    env = {"KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": SECRET}
    assert resolve_settings({}, env).credentials() == {"client_id": "cs-1", "client_secret": SECRET}


def test_a_token_flag_beats_client_credentials_and_an_env_token_does_not() -> None:
    env = {"KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": SECRET, "KORE_TOKEN": "env-token"}
    assert resolve_settings({}, env).credentials() == {"client_id": "cs-1", "client_secret": SECRET}
    assert resolve_settings({"token": TOKEN}, env).credentials() == {"token": TOKEN}
    assert resolve_settings({}, {"KORE_TOKEN": TOKEN}).credentials() == {"token": TOKEN}


def test_missing_credentials_name_what_to_set_and_never_the_secret() -> None:
    message = usage_error({}, {"KORE_CLIENT_SECRET": SECRET})
    assert message == (
        "missing credentials: set --client-id or KORE_CLIENT_ID "
        "(or give a ready JWT with --token or KORE_TOKEN)"
    )
    assert usage_error({"client_id": "cs-1"}, {}).startswith(
        "missing credentials: set --client-secret or KORE_CLIENT_SECRET"
    )
    assert "--client-id or KORE_CLIENT_ID and --client-secret" in usage_error({}, {})


def test_secrets_stay_out_of_the_repr() -> None:
    env = {"KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": SECRET, "KORE_TOKEN": TOKEN}
    text = repr(resolve_settings({"token": TOKEN}, env))
    assert "cs-1" in text
    assert SECRET not in text
    assert TOKEN not in text


def test_account_requires_account_id_then_iid() -> None:
    with pytest.raises(UsageError, match="missing account id: set --account-id or KORE_ACCOUNT_ID"):
        Settings().account()
    with pytest.raises(UsageError, match="missing iid: set --iid or KORE_IID"):
        Settings(account_id="a").account()
    assert Settings(account_id="a", iid="st", stream_id="s").account() == ("a", "st", "s")


def test_settings_may_go_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--account-id", "a", "--iid", "st", "lists", "--json"])
    after = parser.parse_args(["lists", "--account-id", "a", "--iid", "st"])
    assert (before.account_id, before.iid, before.json) == ("a", "st", True)
    assert (after.account_id, after.iid) == ("a", "st")
    # Settings not given are absent, so the environment can supply them.
    assert not hasattr(after, "client_secret")


def test_help_shows_every_variable_and_no_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KORE_CLIENT_SECRET", SECRET)
    text = build_parser().format_help()
    for variable in ("KORE_HOST", "KORE_CLIENT_ID", "KORE_CLIENT_SECRET", "KORE_TOKEN"):
        assert variable in text
    assert SECRET not in text


def test_a_redis_url_comes_from_either_source_and_is_never_shown() -> None:
    url = f"redis://:{SECRET}@cache.internal:6379/0"
    assert resolve_settings({}, {"KORE_REDIS_URL": url}).redis_url == url
    assert resolve_settings(
        {"redis_url": "redis://flag:6379"}, {"KORE_REDIS_URL": url}
    ).redis_url == ("redis://flag:6379")
    assert SECRET not in repr(resolve_settings({}, {"KORE_REDIS_URL": url}))
    assert resolve_settings({}, {}).redis_url is None


def test_a_bad_redis_url_names_flag_and_variable_but_not_the_url() -> None:
    with pytest.raises(UsageError, match="--redis-url or KORE_REDIS_URL") as caught:
        resolve_settings({}, {"KORE_REDIS_URL": f"http://:{SECRET}@cache"})
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("flags", "env", "allowed"),
    [
        ({}, {}, False),
        ({"allow_insecure_http": "1"}, {}, True),  # the flag: store_const "1"
        ({}, {"KORE_ALLOW_INSECURE_HTTP": "yes"}, True),
        ({}, {"KORE_ALLOW_INSECURE_HTTP": " True "}, True),
        ({}, {"KORE_ALLOW_INSECURE_HTTP": "0"}, False),
        ({}, {"KORE_ALLOW_INSECURE_HTTP": ""}, False),  # empty counts as unset
        ({"allow_insecure_http": "1"}, {"KORE_ALLOW_INSECURE_HTTP": "no"}, True),
    ],
)
def test_plain_http_is_allowed_by_the_flag_or_the_variable(
    flags: dict[str, object], env: dict[str, str], allowed: bool
) -> None:
    assert resolve_settings(flags, env).allow_insecure_http is allowed


def test_a_bad_switch_value_names_flag_and_variable() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_settings({}, {"KORE_ALLOW_INSECURE_HTTP": "sure"})
    assert str(caught.value) == (
        "--allow-insecure-http or KORE_ALLOW_INSECURE_HTTP must be one of "
        "1, true, yes, 0, false, no, got 'sure'"
    )


def test_the_flag_takes_no_value_and_may_go_after_the_command() -> None:
    parsed = build_parser().parse_args(["get", "cl-1", "--allow-insecure-http"])
    assert resolve_settings(vars(parsed), {}).allow_insecure_http is True


def test_plain_http_to_another_host_is_refused_naming_the_switch_then_built_with_it() -> None:
    settings = resolve_settings({"host": "http://kore.example", "token": TOKEN}, {})
    with pytest.raises(UsageError) as caught:
        make_client(settings)
    assert "--allow-insecure-http or KORE_ALLOW_INSECURE_HTTP" in str(caught.value)
    assert TOKEN not in str(caught.value)
    allowed = resolve_settings(
        {"host": "http://kore.example", "token": TOKEN}, {"KORE_ALLOW_INSECURE_HTTP": "1"}
    )
    assert make_client(allowed).host == "http://kore.example"
