"""Benchmarks that compare kore_campaign_async with what users would otherwise write.

Run ``python -m benchmarks`` (a few minutes on two cores) or ``python -m benchmarks --quick``
(seconds, small sizes; what CI runs). Every benchmark talks to the package's fake Kore server on
loopback, run in a child process (see ``_server``) so that the client's CPU time is its own and
the server's event loop never delays the client's pacing. Results go to
``benchmarks/results/latest.json`` and ``latest.md``; the full run also draws ``goodput.png``.

Time is compressed: Kore's 60-second window becomes one second, and every retry delay of the
clients compared (the SDK's and the baselines') is divided by the same factor of 60.
"""
