"""A FastAPI backend over Kore contact lists: one client, opened in the lifespan.

Run it (``pip install 'kore_campaign_async[examples]'``)::

    KORE_CLIENT_ID=... KORE_CLIENT_SECRET=... KORE_ACCOUNT_ID=... KORE_IID=st-... \\
        uvicorn examples.fastapi_app:app

Under several workers, share the account's quota through Redis (the startup log says which)::

    KORE_REDIS_URL=redis://localhost:6379/0 ... uvicorn examples.fastapi_app:app --workers 3

Errors map to statuses in ``examples.kore_http``: 422 bad input, 404, 409, 503 with
Retry-After when Kore's pace says wait, 502/504 when Kore fails.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import fastapi
import pydantic
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

import kore_campaign_async as kca

from .kore_http import http_error, list_json
from .kore_setup import KoreSettings, open_account


class NewList(pydantic.BaseModel):
    name: str
    description: str | None = None
    allow_duplicates: bool | None = None


class ListChanges(pydantic.BaseModel):
    name: str | None = None
    description: str | None = None


def kore(request: Request) -> kca.Account:
    """The account handle the lifespan opened: one per app, shared by every request."""
    account: kca.Account = request.app.state.kore
    return account


Kore = Annotated[kca.Account, Depends(kore)]


async def kore_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, kca.KoreError)
    answer = http_error(exc)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def create_app(settings: KoreSettings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment, read at startup."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opened here, on the server's event loop, and closed when the server stops.
        # uvicorn shows this logger's INFO lines: the quota mode appears in its startup log.
        log = logging.getLogger("uvicorn.error")
        async with open_account(settings or KoreSettings.from_env(), log) as account:
            app.state.kore = account
            yield

    app = FastAPI(title="Contact lists", lifespan=lifespan)
    app.add_exception_handler(kca.KoreError, kore_error)

    @app.get("/lists")
    async def all_lists(account: Kore) -> list[dict[str, Any]]:
        return [list_json(item) for item in await account.contact_lists.list()]

    @app.post("/lists", status_code=201)
    async def create_list(new: NewList, account: Kore) -> dict[str, Any]:
        made = await account.contact_lists.create(
            new.name, new.description, allow_duplicates=new.allow_duplicates
        )
        return list_json(made)

    @app.get("/lists/{list_id}")
    async def one_list(list_id: str, account: Kore) -> dict[str, Any]:
        return list_json(await account.contact_lists.get(list_id))

    # response_model=None: FastAPI 0.115 (the floor) reads "-> None" as a body model, and a 204
    # has no body.
    @app.patch("/lists/{list_id}", status_code=204, response_model=None)
    async def change_list(list_id: str, changes: ListChanges, account: Kore) -> None:
        if changes.name is None and changes.description is None:
            raise fastapi.HTTPException(422, "give name or description")
        await account.contact_lists.update(
            list_id, name=changes.name, description=changes.description
        )

    @app.delete("/lists/{list_id}", status_code=204, response_model=None)
    async def delete_list(list_id: str, account: Kore) -> None:
        await account.contact_lists.delete(list_id)

    return app


app = create_app()
