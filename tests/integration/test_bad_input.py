"""Bad input to the example service: never a 5xx, always the right 4xx, nothing written.

The notes service (`examples/notes`) runs in uvicorn in its own process on a SQLite file.
Two halves:

* schemathesis drives its OpenAPI document: property-based requests for every operation
  (and, for the one with a body, requests that violate the schema), with a fixed
  derandomized seed and a bounded number of examples, so the run is the same every time;
  every response must be free of 5xx and conform to the document.
* explicit cases: malformed JSON, wrong types, invalid UTF-8, a body over the limit (with
  and without `Content-Length`), an unknown route and wrong methods.

It runs on SQLite only: the example's table has a fixed name, which concurrent runs on a
shared PostgreSQL would share.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Err

from tests.integration._server import Server, serve

pytestmark = [pytest.mark.integration, pytest.mark.server]

EXAMPLES = 60
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The notes service on a SQLite file of its own."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('notes') / 'notes.db'}"
    env = {"MINTAKA_PROOF_DATABASE_URL": url}
    with serve("tests.integration.service:create_notes_app", env, ready_path="/notes") as server:
        yield server


def test_schema_driven_requests_get_no_5xx_and_conform_to_the_schema(notes: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{notes.base_url}/openapi.json")
    tried: dict[str, int] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"the notes OpenAPI document is invalid: {result.err()}")
        operation = result.ok()
        modes = [GenerationMode.POSITIVE]
        if "requestBody" in operation.definition.raw:
            modes.append(GenerationMode.NEGATIVE)  # a path string has no invalid value
        for mode in modes:
            label = f"{operation.label} ({mode.value})"
            tried[label] = 0
            try:
                run_examples(operation.as_strategy(generation_mode=mode), tried, label)
            except Unsatisfiable:  # pragma: no cover - reported with the operation's name
                pytest.fail(f"schemathesis could not generate a request for {label}")
    print(f"schemathesis requests per operation: {tried}")
    assert all(count > 0 for count in tried.values()), tried
    assert sum(tried.values()) >= 4 * EXAMPLES


def test_the_schema_documents_404_and_409(notes: Server) -> None:
    paths = httpx.get(f"{notes.base_url}/openapi.json").json()["paths"]
    assert {"400", "409", "413", "422"} <= set(paths["/notes"]["post"]["responses"])
    assert "404" in paths["/notes/{slug}"]["get"]["responses"]
    assert "404" in paths["/notes/{slug}"]["delete"]["responses"]


def run_examples(strategy: SearchStrategy[Case[Any]], tried: dict[str, int], label: str) -> None:
    """Send every example hypothesis draws from `strategy`; validate each response."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case[Any]) -> None:
        tried[label] += 1
        case.call_and_validate()

    check()


JSON = {"Content-Type": "application/json"}
BIG = b'{"slug": "bad-big", "text": "' + b"x" * 1_100_000 + b'"}'


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        pytest.param("POST", "/notes", b'{"slug": "bad-json", "text": ', 422, id="malformed JSON"),
        pytest.param("POST", "/notes", b'{"slug": "bad-types", "text": ["x"]}', 422, id="a list"),
        pytest.param("POST", "/notes", b'{"slug": 12, "text": "bad-slug"}', 422, id="a number"),
        pytest.param("POST", "/notes", b'{"slug": "Bad!", "text": "bad"}', 422, id="bad slug"),
        pytest.param("POST", "/notes", b'{"slug": "bad-utf8", "text": "\xff"}', 400, id="UTF-8"),
        pytest.param("POST", "/notes", b"\xff\xfe\xfd", 400, id="not text at all"),
        pytest.param("POST", "/notes", BIG, 413, id="1.1 MB body"),
        pytest.param("POST", "/nope", b'{"slug": "bad-route", "text": "x"}', 404, id="unknown"),
        pytest.param("GET", "/nope", b"", 404, id="GET unknown route"),
        pytest.param("PUT", "/notes", b'{"slug": "bad-put", "text": "x"}', 405, id="PUT"),
        pytest.param("PATCH", "/notes/bad-patch", b'{"text": "x"}', 405, id="PATCH"),
    ],
)
def test_bad_requests_get_the_right_4xx_and_write_nothing(
    notes: Server, method: str, path: str, content: bytes, status: int
) -> None:
    response = httpx.request(method, f"{notes.base_url}{path}", content=content, headers=JSON)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert_no_bad_note_stored(notes)


def test_a_streamed_body_over_the_limit_gets_413_and_writes_nothing(notes: Server) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the body arrives chunked
        yield b'{"slug": "bad-chunked", "text": "'
        for _ in range(20):
            yield b"x" * 64 * 1024
        yield b'"}'

    response = httpx.post(f"{notes.base_url}/notes", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["detail"]
    assert_no_bad_note_stored(notes)


def assert_no_bad_note_stored(notes: Server) -> None:
    stored = httpx.get(f"{notes.base_url}/notes").json()
    assert [note for note in stored if note["slug"].startswith("bad-")] == []


def test_head_works_where_get_does(notes: Server) -> None:
    note = {"slug": "head-check", "text": "read with HEAD"}
    assert httpx.post(f"{notes.base_url}/notes", json=note).status_code in (201, 409)
    for path in ("/notes", "/notes/head-check", "/notes/no-such-note"):
        got = httpx.get(f"{notes.base_url}{path}")
        head = httpx.head(f"{notes.base_url}{path}")
        assert head.status_code == got.status_code
        assert head.content == b""
        assert head.headers["content-length"] == str(len(got.content))
