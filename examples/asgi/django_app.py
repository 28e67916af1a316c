"""The notes service on Django: an `async def` view under Django's ASGI handler.

Django keeps its settings per process, so this module configures a minimal Django (no
ORM, no apps) and serves the URLs in `urlpatterns`; `create_app` points the view at a
database and wraps Django's ASGI handler in the middleware.
"""

import json

import django
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.http import HttpResponse, JsonResponse
from django.urls import URLPattern, clear_url_caches, path
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.asgi.notes_db import Note, open_session
from mintaka.core.asgi import ResponseScopeMiddleware

urlpatterns: list[URLPattern] = []


def create_app(sessionmaker: async_sessionmaker[AsyncSession]) -> ResponseScopeMiddleware:
    async def create_note(request: ASGIRequest) -> HttpResponse:
        session = await open_session(request, sessionmaker)
        note = Note(text=json.loads(request.body)["text"])
        session.add(note)
        return JsonResponse({"text": note.text}, status=201)

    if not settings.configured:
        settings.configure(
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            SECRET_KEY="only-for-this-example",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
        django.setup(set_prefix=False)
    urlpatterns[:] = [path("notes", create_note)]
    clear_url_caches()
    return ResponseScopeMiddleware(ASGIHandler())
