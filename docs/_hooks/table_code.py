"""Let inline code in a table wrap between names, never inside one.

The theme lets code break anywhere, so a narrow column shows `http.resp` on one line and
`onse.start` on the next. The site's stylesheet (docs/stylesheets/site.css) turns that off
inside tables; then a long call such as `Config(before_send_handler="autocommit")` could
only wrap at a space and would hold its column as wide as the whole call. This hook gives
such code the places a reader would break it: a ``<wbr>`` (invisible, and not copied with
the text) after each ``(``, ``,``, ``=``, ``.`` and ``/`` that a name or a quote follows.
"""

from __future__ import annotations

import re
from typing import Any

TABLE = re.compile(r"<table>.*?</table>", re.DOTALL)
INLINE_CODE = re.compile(r"<code>(?P<body>.*?)</code>", re.DOTALL)
TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
BREAK_AFTER = re.compile(r"(?<=[(,=./])(?=[\w&\"'])")


def _code(match: re.Match[str]) -> str:
    parts = TAG_OR_TEXT.split(match["body"])
    # Odd parts are tags (highlighted inline code has spans): only the text gets breaks.
    for index in range(0, len(parts), 2):
        parts[index] = BREAK_AFTER.sub("<wbr>", parts[index])
    return f"<code>{''.join(parts)}</code>"


def break_opportunities(html: str) -> str:
    """``html`` with ``<wbr>`` between the names of every inline code of its tables."""
    return TABLE.sub(lambda table: INLINE_CODE.sub(_code, table[0]), html)


def on_page_content(html: str, **_: Any) -> str:
    """mkdocs hook: every page's tables, after Markdown rendered them."""
    return break_opportunities(html)
