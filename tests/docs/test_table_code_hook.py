"""Inline code in a table may wrap between names, and nowhere else changes."""

from __future__ import annotations

from tests.docs._console import REPO, import_file

hook = import_file(REPO / "docs" / "_hooks" / "table_code.py", "docs_table_code_hook")


def test_code_in_a_table_may_break_after_marks_that_a_name_follows() -> None:
    code = 'Config(before_send="autocommit", x=http.start)'
    html = f"<table><tr><td><code>{code}</code></td></tr></table>"
    assert hook.break_opportunities(html) == (
        '<table><tr><td><code>Config(<wbr>before_send=<wbr>"autocommit",'
        " x=<wbr>http.<wbr>start)</code></td></tr></table>"
    )


def test_highlighted_spans_and_code_outside_tables_are_left_alone() -> None:
    html = (
        "<p><code>a.b</code></p><pre><code>x.y</code></pre>"
        '<table><tr><td><code><span class="n">a.b</span>(...)</code></td></tr></table>'
    )
    assert hook.break_opportunities(html) == html.replace(
        '<span class="n">a.b</span>', '<span class="n">a.<wbr>b</span>'
    )
