from fastapi import APIRouter, FastAPI

from mintaka.introspect import method_paths_from_routes

items = APIRouter(prefix="/items")


@items.get("/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


api = APIRouter()
api.include_router(items, prefix="/v1")

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
app.include_router(api, prefix="/api")

routes = method_paths_from_routes(app.routes)
# {"GET /api/v1/items/{item_id}"}
