"""The web app: `create_app(settings)` builds the FastAPI application (`pressrun serve` runs it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline

from .._version import __version__
from ..delivery import routes as delivery
from ..delivery.background import DeliveryWorkers
from . import api, dashboard, formatting, pages, tracking
from .auth import CookieSigner
from .db import Database
from .deps import Services
from .errors import ServiceError
from .runs import RunPool
from .settings import Settings

_HERE = Path(__file__).parent


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)
    runs = RunPool(settings.database_url, settings.run_workers)
    deliveries = DeliveryWorkers(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runs.resume(db)
        deliveries.start()
        try:
            yield
        finally:
            deliveries.shutdown()
            runs.shutdown()

    app = FastAPIOffline(  # /docs served from the package: no CDN, works on closed networks
        title="pressrun",
        version=__version__,
        description="Personalized asset campaigns: runs, recipient pages, tracking and metrics.",
        lifespan=lifespan,
    )
    templates = Jinja2Templates(directory=_HERE / "templates")
    templates.env.globals["version"] = __version__
    templates.env.filters.update(
        pct=formatting.percent, filesize=formatting.file_size, money=formatting.money
    )
    app.state.services = Services(settings, db, runs, CookieSigner(settings.secret), templates)
    app.state.delivery = deliveries
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.add_exception_handler(ServiceError, _service_error)

    # Every router is registered here.
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(tracking.router)
    app.include_router(dashboard.router)
    app.include_router(delivery.api)
    app.include_router(delivery.pages)
    app.include_router(delivery.dashboard)
    return app


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)
