"""The same backend on aiohttp.web: one client, opened in ``cleanup_ctx``.

Run it (``KORE_REDIS_URL=redis://...`` too when several processes serve the same account)::

    KORE_CLIENT_ID=... KORE_CLIENT_SECRET=... KORE_ACCOUNT_ID=... KORE_IID=st-... \\
        python -m aiohttp.web -P 8080 examples.aiohttp_app:create_app
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

import kore_campaign_async as kca

from .kore_http import http_error, list_json
from .kore_setup import KoreSettings, open_account

KORE: web.AppKey[kca.Account] = web.AppKey("kore", kca.Account)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def kore_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer an SDK error with the status ``examples.kore_http`` chooses."""
    try:
        return await handler(request)
    except kca.KoreError as exc:
        answer = http_error(exc)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


async def all_lists(request: web.Request) -> web.Response:
    lists = await request.app[KORE].contact_lists.list()
    return web.json_response([list_json(item) for item in lists])


async def create_list(request: web.Request) -> web.Response:
    body = await _body(request)
    made = await request.app[KORE].contact_lists.create(
        body.get("name", ""),  # the SDK checks types and limits: ValidationError -> 422
        body.get("description"),
        allow_duplicates=body.get("allow_duplicates"),
    )
    return web.json_response(list_json(made), status=201)


async def one_list(request: web.Request) -> web.Response:
    item = await request.app[KORE].contact_lists.get(request.match_info["list_id"])
    return web.json_response(list_json(item))


async def change_list(request: web.Request) -> web.Response:
    body = await _body(request)
    await request.app[KORE].contact_lists.update(
        request.match_info["list_id"], name=body.get("name"), description=body.get("description")
    )
    return web.Response(status=204)


async def delete_list(request: web.Request) -> web.Response:
    await request.app[KORE].contact_lists.delete(request.match_info["list_id"])
    return web.Response(status=204)


def create_app(settings: KoreSettings | None = None) -> web.Application:
    """Build the app; ``settings`` default to the environment, read at startup."""

    async def kore_client(app: web.Application) -> AsyncIterator[None]:
        # Opened on the server's event loop at startup, closed at cleanup.
        async with open_account(settings or KoreSettings.from_env()) as account:
            app[KORE] = account
            yield

    app = web.Application(middlewares=[kore_errors])
    app.cleanup_ctx.append(kore_client)
    app.add_routes(
        [
            web.get("/lists", all_lists),
            web.post("/lists", create_list),
            web.get("/lists/{list_id}", one_list),
            web.patch("/lists/{list_id}", change_list),
            web.delete("/lists/{list_id}", delete_list),
        ]
    )
    return app
