"""Rendering: the Jinja2 template → Markdown, markdown-it-py → standalone HTML."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from markdown_it import MarkdownIt

from dipolehnl.report.context import fmt, ranges

TEMPLATE = "report.md.j2"

STYLE = """body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;
line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.25em .6em;
text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}img{max-width:100%}
code{background:#f5f5f5;padding:0 .2em}h1,h2,h3{color:#1a1a5a}"""


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _pct(x: Any, decimals: int = 0) -> str:
    return f"{100 * x:.{decimals}f}%" if _finite(x) else "—"


FILTERS = {
    "fmt": lambda x: fmt(x, 3),  # 3 significant figures
    "fmt2": lambda x: fmt(x, 2),  # 2 significant figures
    "pct": lambda x: _pct(x, 0),  # 0.25 → 25%
    "pct1": lambda x: _pct(x, 1),  # 0.025 → 2.5%
    "mev": lambda x: f"{x:.0f}" if _finite(x) else "—",  # whole MeV
    "sec": lambda x: f"{x:.1f}",  # seconds
    "fix2": lambda x: f"{x:.2f}" if _finite(x) else "—",  # two decimals
    "sci": lambda x: f"{x:.0e}",  # 1e-08
    "num": lambda x: f"{x:g}",  # shortest exact-looking form: 0.001855
    "ranges": ranges,
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (package data ``report/templates``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dipolehnl.report", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def render_markdown(context: Mapping[str, Any], template: str = TEMPLATE) -> str:
    """The report as Markdown."""
    text = environment().get_template(template).render(**context)
    # collapse runs of blank lines left by conditional blocks
    lines = text.splitlines()
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1].strip()):
            out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"


def markdown_parser() -> MarkdownIt:
    """CommonMark with pipe tables; raw HTML in the source is escaped, not passed through."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def to_html(markdown: str, title: str = "report") -> str:
    """A standalone HTML page (the report's CSS) from Markdown."""
    body = markdown_parser().render(markdown)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + body + "</body></html>\n"
    )
