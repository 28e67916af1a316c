"""Render a dependency audit: a table grouped by route, JSON for tools, Markdown for a PR."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from mintaka.introspect._render import align, markdown_table

if TYPE_CHECKING:
    from mintaka.introspect._audit_results import DependencyAudit, Finding, RouteLifetimes

__all__ = ["audit_json", "audit_markdown", "audit_text"]

_AUDIT_FORMAT = "mintaka-routes-audit"
_HEADER = ["Dependency", "Closes", "When", "Provides"]


def _title(audit: DependencyAudit) -> str:
    on = f"FastAPI {audit.fastapi_version}" if audit.fastapi_version else "no FastAPI"
    return f"When each dependency closes ({on})"


def _route_heading(route: RouteLifetimes) -> str:
    if not route.fastapi:
        return f"{route.route}  ({route.endpoint}; not a FastAPI route, no dependencies)"
    scope = "opens a response scope" if route.response_scope else "no response scope"
    return f"{route.route}  ({route.endpoint}; {scope})"


def _rows(route: RouteLifetimes) -> list[list[str]]:
    return [[" → ".join(d.chain), d.closes, d.when, d.provides or "-"] for d in route.dependencies]


def _count(audit: DependencyAudit) -> str:
    errors = len(audit.errors)
    warnings = len(audit.findings) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def _finding_lines(finding: Finding) -> list[str]:
    return [
        f"{finding.severity}: {finding.route}: {finding.kind}",
        f"  {' → '.join(finding.chain)}",
        f"  {finding.message}",
        f"  fix: {finding.fix}",
    ]


def audit_text(audit: DependencyAudit) -> str:
    """Return the audit as text: a table of dependencies per route, then the findings."""
    parts = [_title(audit), *audit.notes]
    for route in audit.routes:
        block = _route_heading(route)
        rows = _rows(route)
        if rows:
            table = align([_HEADER, *rows])
            block += "\n" + "\n".join(f"  {line}" for line in table.splitlines())
        elif route.fastapi:
            block += "\n  (no dependencies)"
        parts.append(block)
    if not audit.routes:
        parts.append("The app serves no HTTP routes.")
    parts.append(f"Findings: {_count(audit)}" + (":" if audit.findings else "."))
    parts.extend("\n".join(_finding_lines(finding)) for finding in audit.findings)
    return "\n\n".join(parts)


def audit_markdown(audit: DependencyAudit) -> str:
    """Return the audit as Markdown for a pull-request comment."""
    parts = [f"### {_title(audit)}", *audit.notes]
    if audit.findings:
        items = [
            f"- **{f.severity}** `{f.route}` ({f.kind}): {f.message} *Fix:* {f.fix}"
            for f in audit.findings
        ]
        parts.append(f"**Findings: {_count(audit)}**\n\n" + "\n".join(items))
    else:
        parts.append(f"**Findings: {_count(audit)}.**")
    for route in audit.routes:
        heading = f"#### `{route.route}`\n\n{_route_heading(route).partition('  ')[2]}"
        rows = _rows(route)
        parts.append(f"{heading}\n\n{markdown_table([_HEADER, *rows])}" if rows else heading)
    return "\n\n".join(parts)


def audit_json(audit: DependencyAudit) -> str:
    """Return the audit as JSON: the routes, their dependencies and the findings."""
    data = {"format": _AUDIT_FORMAT, "version": 1, **dataclasses.asdict(audit)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
