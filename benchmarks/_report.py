"""Turn the results into markdown tables that README can quote as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Column = tuple[str, Callable[[Any], str]]
"""A table column: its header, and how to show it for one row."""


def _table(columns: Sequence[Column], rows: Iterable[Any]) -> list[str]:
    lines = [
        "| " + " | ".join(header for header, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(show(row) for _, show in columns) + " |" for row in rows]
    return lines


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _bytes(value: float) -> str:
    if abs(value) >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MiB"
    if abs(value) >= 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value:.0f} B"


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _pass(passed: bool) -> str:
    return "**pass**" if passed else "**fail**"


_OVERHEAD: list[Column] = [
    ("client", lambda row: row[0]),
    ("rounds", lambda row: str(row[1]["rounds"])),
    ("requests/s", lambda row: f"{row[1]['req_per_s']:.0f}"),
    ("client CPU µs/request", lambda row: f"{row[1]['cpu_us_per_req']:.0f}"),
    ("server CPU µs/request", lambda row: f"{row[1]['server_cpu_us_per_req']:.0f}"),
    ("CPU vs raw aiohttp", lambda row: _times(row[1]["cpu_vs_raw"])),
    ("CPU vs aiohttp + pydantic", lambda row: _times(row[1]["cpu_vs_pydantic"])),
]

_TARGETS: list[Column] = [
    ("target", lambda t: f"{t['client']} / {t['reference']}"),
    ("kind", lambda t: t.get("kind") or "-"),
    ("at most", lambda t: _times(t["limit"])),
    ("measured", lambda t: _times(t["ratio"])),
    ("round by round", lambda t: f"{_times(t['low'])} to {_times(t['high'])}"),
    ("verdict", lambda t: _pass(t["passed"])),
]


def overhead(result: Mapping[str, Any]) -> list[str]:
    rows = result["rows"]
    first = next(iter(rows.values()))
    pinned = "; client and server pinned to their own CPUs" if result.get("pinned") else ""
    return [
        f"### 1. Client CPU per request (no rate limit, {result['concurrency']} requests in "
        f"flight, {first['requests']} creates per round, medians over interleaved rounds"
        f"{pinned})",
        "",
        *_table(_OVERHEAD, rows.items()),
        "",
        "Ratios are medians of round-by-round ratios (round n of every client ran seconds "
        "apart). The pydantic clients decode each answer's `data` into a 25-field model with "
        "`model_validate_json`; raw aiohttp only parses the JSON.",
        "",
        *_table(_TARGETS, result["targets"]),
        "",
        "An aim is what the SDK works towards; a floor is what a change to the request path "
        "must not lose (1.5x raw aiohttp, held since the request path became a chain of steps).",
    ]


_GOODPUT: list[Column] = [
    ("client", lambda run: run["client"]),
    ("window", lambda run: run["mode"]),
    ("accounts", lambda run: str(run["accounts"])),
    ("goodput (share of allowed)", lambda run: _pct(run["goodput"])),
    ("worst account", lambda run: _pct(run["goodput_min_account"])),
    ("answered 429", lambda run: _pct(run["share_429"])),
    ("requests", lambda run: str(run["requests"])),
    ("items given up", lambda run: str(run["items_failed"])),
]


def goodput(result: Mapping[str, Any]) -> list[str]:
    lines = [
        f"### 2. Goodput under the rate limit ({result['limit']} per {result['window_s']:g} s "
        f"per account, {result['seconds']:g} s runs, "
        f"{result['concurrency_per_account']} workers per account)",
        "",
        *_table(_GOODPUT, result["runs"]),
    ]
    target = result["target"]
    lines += [
        "",
        f"Target for the SDK: goodput at least {_pct(target['goodput_min'])} and at most "
        f"{_pct(target['share_429_max'])} answered 429; {_verdict(result['sdk_meets_target'])}.",
    ]
    if "processes" in result:
        lines += ["", *processes(result["processes"])]
    return lines


_PROCESSES: list[Column] = [
    ("processes", lambda row: str(row["processes"])),
    ("pacing", lambda row: "each alone" if row["pacing"] == "alone" else "shared (Redis)"),
    ("goodput (share of allowed)", lambda row: _pct(row["goodput"])),
    ("answered 429", lambda row: _pct(row["share_429"])),
    ("requests", lambda row: str(row["requests"])),
    ("smallest process share", lambda row: _pct(row["smallest_share"])),
    ("items failed", lambda row: str(row["items_failed"])),
]


def processes(result: Mapping[str, Any]) -> list[str]:
    """N processes on one account: each pacing alone versus sharing one RedisLimitStore."""
    lines = [
        f"#### N processes sharing one account ({result['limit']} per {result['window_s']:g} s, "
        f"{result['mode']} window, {result['seconds']:g} s runs, 8 workers per process)",
        "",
        *_table(_PROCESSES, result["runs"]),
    ]
    if result.get("skipped"):
        lines += ["", f"Shared runs {result['skipped']}."]
    return lines


_SCALE: list[Column] = [
    ("job", lambda row: row["operation"]),
    ("items", lambda row: f"{row['items']:,}"),
    ("peak", lambda row: _bytes(row["peak_bytes"])),
    ("peak per item", lambda row: _bytes(row["peak_bytes_per_item"])),
    ("report per item", lambda row: _bytes(row["report_bytes_per_item"])),
    ("left after", lambda row: _bytes(row["leaked_bytes"])),
]


def scale(result: Mapping[str, Any]) -> list[str]:
    jobs = [key for key, value in result.items() if isinstance(value, Mapping) and "rows" in value]
    rows = [{"operation": job, **row} for job in jobs for row in result[job]["rows"]]
    growth = ", ".join(
        f"{job} {result[job]['peak_ratio']:.2f}x ({_bytes(result[job]['growth_bytes_per_item'])}"
        " per extra item)"
        for job in jobs
    )
    target = result["target"]
    per_item = result["create_many"]["rows"][-1]["peak_bytes_per_item"]
    stream = result["create_many_iter"]["growth_bytes_per_item"]
    size_ratio = result["create_many"]["size_ratio"]
    return [
        f"### 3. Memory, report included (tracemalloc; {result['stub']})",
        "",
        *_table(_SCALE, rows),
        "",
        f"Peak from the small to the large size ({size_ratio:g}x the items): {growth}.",
        f"Targets: create_many at most {_bytes(target['create_many_peak_bytes_per_item_max'])} "
        f"per item, report included: {_bytes(per_item)} "
        f"({_verdict(target['create_many_meets_target'])}); create_many_iter flat (at most "
        f"{_bytes(target['create_many_iter_growth_bytes_per_item_max'])} per extra item): "
        f"{_bytes(stream)} ({_verdict(target['create_many_iter_meets_target'])}).",
    ]


def _limit_and_injected(run: Mapping[str, Any]) -> str:
    injected = run["statuses"].get("429", 0) - run["refused_by_limit"]
    return f"{run['refused_by_limit']} + {injected}"


def _server_errors(run: Mapping[str, Any]) -> str:
    return str(sum(n for code, n in run["statuses"].items() if code.startswith("5")))


_CHAOS: list[Column] = [
    ("run", lambda run: run["label"]),
    ("seconds", lambda run: f"{run['seconds']:.1f}"),
    ("failed", lambda run: str(run["failed"])),
    ("lost", lambda run: str(run["lists_lost"])),
    ("duplicated", lambda run: str(run["lists_duplicated"])),
    ("committed twice", lambda run: str(run["creates_committed_twice"])),
    ("answered 'exists'", lambda run: str(run["creates_answered_name_taken"])),
    ("429 (limit + injected)", _limit_and_injected),
    ("5xx", _server_errors),
    ("dropped", lambda run: str(run["statuses"].get("dropped", 0))),
    ("adopted", lambda run: str(run["outcomes"].get("adopted", 0))),
    ("lookups", lambda run: str(run["lookups"])),
    ("attempts/item", lambda run: f"{run['attempts_per_item']:.3f}"),
]


def chaos(result: Mapping[str, Any]) -> list[str]:
    limit = result["server_limit"]
    lookup = result["lookup"]
    runs = [{"label": label, **result[label]} for label in ("clean", "chaos")]
    return [
        f"### 4. Chaos (create_many over {result['clean']['items']:,} items; chaos adds resets, "
        f"500s, 503s, commit-then-drop, injected 429s and a {limit['mode']} limit of "
        f"{limit['limit']} per {limit['window_s']:g} s)",
        "",
        *_table(_CHAOS, runs),
        "",
        f"Chaos took {_times(result['time_ratio'])} the clean run and "
        f"{_times(result['time_over_floor'])} the {result['limit_floor_s']:.1f} s the limit "
        f"alone requires. One adoption lookup among {lookup['lists']:,} lists (what a create "
        f"whose answer was lost pays before retrying) took {lookup['wall_s'] * 1000:.0f} ms "
        f"({lookup['client_cpu_s'] * 1000:.0f} ms client CPU, "
        f"{lookup['server_cpu_s'] * 1000:.0f} ms server CPU). "
        f"Target (zero lost, zero duplicated): {_verdict(result['meets_target'])}.",
    ]


def _collections(row: Mapping[str, Any]) -> str:
    return f"{row['young_per_1000']:.0f} / {row['full_per_1000']:.2f}"


def _promoted(row: Mapping[str, Any]) -> str:
    """Objects per create promoted to the collector's old generation ("-": not counted then)."""
    return f"{row['promoted']:.0f}" if "promoted" in row else "-"


_ACCOUNTS: list[Column] = [
    ("accounts", lambda row: f"{row['accounts']:,}"),
    ("client CPU µs/request", lambda row: f"{row['cpu_us']:.0f}"),
    ("of which collector", lambda row: f"{row['gc_us']:.0f}"),
    ("collector objects/create", lambda row: f"{row['gc_objects']:.0f}"),
    ("young / full collections per 1,000 creates", _collections),
    ("promoted to the old generation/create", _promoted),
]
_ACCOUNTS_MEMORY: list[Column] = [
    ("accounts", lambda row: f"{row['accounts']:,}"),
    ("per account, one call in flight", lambda row: _bytes(row["in_flight_bytes"])),
    ("held by the benchmark per call (not counted)", lambda row: _bytes(row["driver_bytes"])),
    ("per idle account", lambda row: _bytes(row["idle_bytes"])),
    ("tracked objects per account in flight", lambda row: _objects(row)),
]


def _objects(row: Mapping[str, Any]) -> str:
    """The SDK's tracked objects per account in flight, and the benchmark's own per call."""
    if "in_flight_objects" not in row:  # a result written before they were counted
        return "-"
    return f"{row['in_flight_objects']:.0f} (+ {row['driver_objects']:.0f} the benchmark's)"


def _raw_aiohttp(raw: Mapping[str, Any] | None) -> list[str]:
    """The same shape in raw aiohttp, the floor under the server rows (absent: not measured)."""
    if raw is None:
        return []
    return [
        "The same shape in raw aiohttp, no SDK (a task per create, each account's creates one "
        "pace apart, the same sockets), interleaved with the rows above: the floor under any "
        f"aiohttp client, {_times(raw['cpu_ratio'])} from the smallest size to the largest:",
        "",
        *_table(_ACCOUNTS, raw["rows"]),
        "",
    ]


def accounts(result: Mapping[str, Any]) -> list[str]:
    mock, server, target = result["mock"], result["server"], result["target"]
    largest = mock["rows"][-1]
    return [
        "### 5. Many accounts in one process (three creates per account, default pacing and "
        "garbage collector)",
        "",
        "Through MockTransport (the SDK alone):",
        "",
        *_table(_ACCOUNTS, mock["rows"]),
        "",
        *_table(_ACCOUNTS_MEMORY, mock["rows"]),
        "",
        "Against the fake server in its own process:",
        "",
        *_table(_ACCOUNTS, server["rows"]),
        "",
        *_raw_aiohttp(result.get("server_raw_aiohttp")),
        f"Targets: CPU per request at {largest['accounts']:,} accounts at most "
        f"{_times(target['cpu_ratio_max'])} that at {mock['rows'][0]['accounts']:,}: "
        f"{_times(mock['cpu_ratio'])} ({_verdict(target['cpu_meets_target'])}), against the "
        f"server {_times(server['cpu_ratio'])} ({_verdict(target['server_cpu_meets_target'])}); "
        f"at most {_bytes(target['in_flight_bytes_max'])} per account with a call in flight: "
        f"{_bytes(largest['in_flight_bytes'])} ({_verdict(target['in_flight_meets_target'])}); "
        f"at most {_bytes(target['idle_bytes_max'])} per idle account: "
        f"{_bytes(largest['idle_bytes'])} ({_verdict(target['idle_meets_target'])}).",
    ]


SECTIONS = {
    "overhead": overhead,
    "goodput": goodput,
    "scale": scale,
    "chaos": chaos,
    "accounts": accounts,
}


def markdown(results: Mapping[str, Any]) -> str:
    """Return every section present in ``results``, in benchmark order."""
    meta = results["meta"]
    lines = [
        f"## Benchmarks ({meta['mode']} run, {meta['cpus']} CPUs, Python {meta['python']}, "
        f"aiohttp {meta['aiohttp']}, kore_campaign_async {meta['sdk']})",
        "",
        "Against the fake Kore server on loopback (in its own process). Time is compressed 60x: "
        "Kore's 60 s window is 1 s here, and every client's retry delays are divided by 60.",
    ]
    for name, section in SECTIONS.items():
        if name in results:
            lines += ["", *section(results[name])]
    return "\n".join(lines) + "\n"
