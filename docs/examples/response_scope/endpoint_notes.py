from notes_db import Note, engine, lifespan, transaction
from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mintaka.core import ResponseScope, call_in_response_scope, response_stack


async def build_response(request: Request) -> Response:
    note = await request.json()
    connection = await response_stack(request).enter_async_context(transaction(engine))
    result = await connection.execute(insert(Note).values(text=note["text"]).returning(Note.id))
    return JSONResponse({"id": result.scalar_one()}, status_code=201)


# --8<-- [start:endpoint]
class Notes(HTTPEndpoint):
    async def post(self, request: Request) -> Response:
        async with ResponseScope(request.scope) as response_scope:
            response = await build_response(request)
            response_scope.respond(response.status_code)  # for response_status()
        return response  # every response-scoped context has exited here


# --8<-- [end:endpoint]
# --8<-- [start:adapter]
async def handle(request: Request) -> Response:
    """What an adapter for another framework calls on every request."""
    return await call_in_response_scope(build_response, request)


# --8<-- [end:adapter]
app = Starlette(
    routes=[Route("/notes", Notes), Route("/adapted", handle, methods=["POST"])],
    lifespan=lifespan,
)
