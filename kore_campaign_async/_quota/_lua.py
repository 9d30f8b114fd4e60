"""The Lua twins of ``pacing.step`` and of the lease operations, run atomically in Redis.

``PACE`` does in one script what ``pacing.step`` does in Python, line for line (the tests run
both on the same sequences): load the account's hash or start fresh, forget an idle account,
apply the operation, store every field with a TTL, and publish a pause. Time is Redis ``TIME``
(or ARGV[12], for the twin tests): no host's clock is ever compared with another's. Numbers are
written with ``%.17g`` so a float survives the round trip exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Final

from .pacing import (
    CATCH_UP,
    CHANGED_STRAY_PRICE,
    EPSILON,
    FORGET_WINDOWS,
    FRESH_STRAYS,
    MAX_CUT,
    PROBE_WINDOWS,
    RESTORE_GAP,
    RESTORE_WINDOWS,
    STRAY_ALLOWANCE,
)
from .rate_limit import PacingSettings

# Field order of the account hash (besides "fp", the settings' fingerprint).
FIELDS: Final = (
    "tat",
    "paused_until",
    "limit",
    "burst",
    "epoch_start",
    "epoch_ok",
    "clean",
    "cut_at",
    "touched",
    "ceiling",
    "raised",
    "strays",
    "held",
)

# KEYS[1]: the account's hash.
# ARGV: op, fingerprint, the settings (requests, per, start burst, pause cap, margin, ttl ms and
# adaptive "1" or "0", space-separated: they change only with the settings), pause channel,
# sent_at ("" = now), retry_after ("" = none), now ("" = Redis TIME), successes to count before
# op (their sent_at, space-separated; "" = none).
# Returns {"ok", number, now, pause left} or {"conflict", stored fingerprint}.
PACE: Final = f"""
local op, fp, channel = ARGV[1], ARGV[2], ARGV[4]
local requests, per, start_burst, pause_cap, margin, ttl_ms, adaptive =
  string.match(ARGV[3], '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) ([01])$')
requests, per, start_burst = tonumber(requests), tonumber(per), tonumber(start_burst)
pause_cap, margin, ttl_ms = tonumber(pause_cap), tonumber(margin), tonumber(ttl_ms)
adaptive = adaptive == '1'
local retry_after = tonumber(ARGV[6])
local now = tonumber(ARGV[7])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local sent_at = tonumber(ARGV[5]) or now
local EPSILON, MAX_CUT = {EPSILON!r}, {MAX_CUT!r}
local PROBE, FORGET = {PROBE_WINDOWS!r}, {FORGET_WINDOWS!r}
local RESTORE, RESTORE_GAP = {RESTORE_WINDOWS!r}, {RESTORE_GAP!r}
local CATCH_UP = {CATCH_UP!r}
local STRAYS, FRESH_STRAYS = {STRAY_ALLOWANCE!r}, {FRESH_STRAYS!r}
local CHANGED_PRICE = {CHANGED_STRAY_PRICE!r}
local FIELDS = {{{", ".join(f"'{name}'" for name in FIELDS)}}}

local stored = redis.call('HMGET', KEYS[1], 'fp', unpack(FIELDS))
if stored[1] and stored[1] ~= fp then
  return {{'conflict', stored[1]}}
end
local s = {{}}
local function fresh()
  s = {{tat = now, paused_until = now, limit = requests, burst = start_burst,
       epoch_start = now, epoch_ok = 0, clean = requests, cut_at = now - per, touched = now,
       ceiling = requests, raised = 0, strays = FRESH_STRAYS, held = 0}}
end
local whole = stored[1] ~= false and stored[1] ~= nil
for i = 2, #FIELDS + 1 do
  -- A hash written before strays (or held) were kept is whole without them (keeps its pause).
  local name = FIELDS[i - 1]
  if not stored[i] and name ~= 'strays' and name ~= 'held' then whole = false end
end
-- The numbers as read: a field that ends as it was read is not written again.
local read = {{}}
if whole then
  for i, name in ipairs(FIELDS) do s[name] = tonumber(stored[i + 1]) end
  for name, value in pairs(s) do read[name] = value end
  s.strays = s.strays or FRESH_STRAYS
  s.held = s.held or 0
  if now - s.touched > FORGET * per and now >= s.paused_until then fresh() end
else
  fresh()
end
local function interval() return per / s.limit * (1 + margin) end

local function succeeded(sent_at)
  s.touched = math.max(s.touched, now)
  if sent_at >= s.epoch_start then s.epoch_ok = s.epoch_ok + 1 end
  s.clean = s.clean + 1
  local run = math.min(s.clean, s.epoch_ok)
  if run - 1 < s.limit and s.limit <= run then s.held = math.max(s.held, s.limit) end
  s.strays = math.min(STRAYS, s.strays + 1 / requests)
  if s.limit < requests then
    if s.ceiling - s.limit >= RESTORE_GAP then
      if s.clean >= RESTORE * s.limit then
        s.limit = (s.limit + s.ceiling) / 2
        s.raised, s.clean = 1, 0
      end
    elseif s.clean >= PROBE * s.limit then
      s.limit = math.min(requests, s.limit + 1)
      s.ceiling = math.max(s.ceiling, s.limit)
      s.raised, s.clean = 1, 0
    end
  end
end
-- Successes this process heard since its last call ride with this one, counted first.
for carried in string.gmatch(ARGV[8], '%S+') do succeeded(tonumber(carried)) end

local result = 0
if op == 'permit' then
  if now < s.paused_until - EPSILON then
    result = s.paused_until - now
  else
    local step = interval()
    local allowed_at = s.tat - (s.burst - 1) * step
    if now < allowed_at - EPSILON then
      result = allowed_at - now
    else
      s.tat = math.max(s.tat, now - math.min(step, CATCH_UP * margin * per)) + step
      s.touched = now
    end
  end
elseif op == 'ok' then
  succeeded(sent_at)
elseif op == '429' then
  s.touched = math.max(s.touched, now)
  local wait = retry_after
  if wait == nil then wait = interval() end
  s.paused_until = math.max(s.paused_until, now + math.min(wait, pause_cap))
  if adaptive and sent_at >= s.cut_at then
    local price = 1
    if s.clean < s.limit and s.limit > s.held then price = CHANGED_PRICE end
    if s.burst > 1 then
      s.burst = 1
      s.raised, s.clean = 0, 0
    elseif s.epoch_ok > 0 and s.strays >= price and wait >= interval() then
      s.strays = s.strays - price
    elseif s.epoch_ok > 0 and s.raised == 1 and s.ceiling - s.limit < 1 and s.clean < s.limit then
      -- A failed probe: back to the limit below it, which held.
      s.ceiling = s.limit
      s.limit = math.max(1, s.limit - 1)
      s.raised, s.clean = 0, 0
    elseif s.epoch_ok > 0 then
      if s.raised == 1 and s.clean < s.limit then
        s.ceiling = s.limit
        s.held = math.min(s.held, s.ceiling)
      end
      local span = math.max(s.paused_until - s.epoch_start, EPSILON)
      local observed = s.epoch_ok * per / span
      local step = interval()
      if s.held > 0 and span + step < per and wait >= step then
        -- An epoch short of a window: no less than the pace less the pause's share of one.
        observed = math.max(observed, s.limit * (1 - math.min(wait, pause_cap) / per))
      end
      s.limit = math.max(1, MAX_CUT * s.limit, math.min(s.limit - 1, observed))
      s.raised, s.clean = 0, 0
    end
    s.epoch_start = s.paused_until
    s.epoch_ok = 0
    s.cut_at = now
  end
  s.tat = math.max(s.tat, s.paused_until + (s.burst - 1) * interval())
  result = s.paused_until - now
end

local fields = {{}}
if stored[1] ~= fp then fields = {{'fp', fp}} end
for _, name in ipairs(FIELDS) do
  if s[name] ~= read[name] then
    fields[#fields + 1] = name
    fields[#fields + 1] = string.format('%.17g', s[name])
  end
end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
redis.call('PEXPIRE', KEYS[1], ttl_ms)
if op == '429' then
  redis.call('PUBLISH', channel, string.format('%.17g', result))
end
local pause_left = math.max(0, s.paused_until - now)
return {{'ok', string.format('%.17g', result), string.format('%.17g', now),
        string.format('%.17g', pause_left)}}
"""

# KEYS[1]: a lease. ARGV: token, ttl ms. Returns 1 if the token still holds it (renewed).
RENEW_LEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS[1]: a lease. ARGV: token. Deletes it only if the token still holds it.
RELEASE_LEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _exact(value: float | None) -> str:
    """A float for ARGV, exactly; "" for None or anything that is not a sane time or delay."""
    if value is None or not (0 <= value < math.inf):
        return ""
    return repr(float(value))


@functools.lru_cache(maxsize=64)
def _settings_args(settings: PacingSettings) -> tuple[str, str]:
    """The fingerprint and the settings' numbers as ``PACE`` reads them (made once each)."""
    ttl_ms = math.ceil((FORGET_WINDOWS * settings.per + settings.pause_cap) * 1000)
    numbers = (
        settings.requests,
        repr(float(settings.per)),
        settings.start_burst,
        repr(float(settings.pause_cap)),
        repr(float(settings.margin)),
        ttl_ms,
        "1" if settings.adaptive else "0",
    )
    return settings.fingerprint(), " ".join(map(str, numbers))


def pace_args(
    settings: PacingSettings,
    op: str,
    channel: str,
    sent_at: float | None = None,
    retry_after: float | None = None,
    now: float | None = None,
    carried: Iterable[float] = (),
) -> list[str]:
    """The ARGV of ``PACE``; ``now`` None reads Redis ``TIME`` (given only by the twin tests).

    ``carried``: the sent_at of successes to count (as ``ok``, in order) before ``op``.
    """
    fingerprint, numbers = _settings_args(settings)
    return [
        op,
        fingerprint,
        numbers,
        channel,
        _exact(sent_at),
        _exact(retry_after),
        _exact(now),
        " ".join(repr(float(at)) for at in carried),
    ]
