"""``/health``: whether the database and the broker answer."""

from litestar import Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

import core
from core.web.deps import PlatformDep


@get("/health", sync_to_thread=True, opt={"action": None}, tags=["health"], operation_id="Health")
def health(platform: PlatformDep) -> Response[dict]:
    """Report the database and broker status; 503 when either is down."""
    try:
        with platform.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = {"ok": True, "backend": platform.engine.dialect.name}
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        database = {"ok": False, "backend": platform.engine.dialect.name, "error": str(error)[:200]}
    broker_ok, broker_kind = platform.jobs.check()
    ok = database["ok"] and broker_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "version": core.__version__,
        "database": database,
        "broker": {"ok": broker_ok, "kind": broker_kind},
    }
    return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)
