"""Benchmarks that compare kore_campaign_async with what users would otherwise write.

They need the ``bench`` extra (httpx, pydantic, matplotlib). Run ``python -m benchmarks`` (a
few minutes on two cores) or ``python -m benchmarks --quick`` (seconds, small sizes; what CI runs
through ``pytest -m bench``). Every benchmark talks to the package's fake Kore server on
loopback, run in a child process (see ``_server``) so that the client's CPU time is its own and
the server's event loop never delays the client's pacing. A full run writes
``benchmarks/results/latest.json`` and ``latest.md`` and draws ``goodput.png``; a quick run
writes to ``benchmarks/results/quick/``.

Time is compressed: Kore's 60-second window becomes one second, and every retry delay of the
clients compared (the SDK's and the baselines') is divided by the same factor of 60.
"""
