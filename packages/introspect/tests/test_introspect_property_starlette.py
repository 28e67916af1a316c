"""Property: for random trees of Starlette routes, mounts and hosts, the listing is
exactly what the app serves, and every listed route answers as itself."""

from __future__ import annotations

import anyio
from hypothesis import HealthCheck, given, settings
from starlette.applications import Starlette

from packages.introspect.tests._introspect_trees import (
    Node,
    assert_listing_is_what_is_served,
    starlette_routes,
    trees,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(leaf_kinds=["route", "ws"], branch_kinds=["mount", "mount_app", "host"]))
def test_listing_of_random_starlette_trees_is_exactly_what_is_served(
    nodes: tuple[Node, ...],
) -> None:
    app = Starlette(routes=starlette_routes(nodes))

    anyio.run(lambda: assert_listing_is_what_is_served(app, nodes, lazy_include=False))
