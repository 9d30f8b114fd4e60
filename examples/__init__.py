"""Runnable recipes: kore_campaign_async in a web backend (FastAPI, aiohttp.web).

They are not part of the installed package; tests/examples runs each against the fake server.
"""
