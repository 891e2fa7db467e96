"""docs/tutorial.md stays true: its ```python blocks run, in order, in one namespace in an
empty directory (the tutorial writes the files it needs there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a Markdown text, in order."""
    return BLOCK.findall(text)


def test_the_extractor_finds_every_python_block():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


def test_tutorial_code_runs(tmp_path, monkeypatch):
    blocks = python_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__tutorial__"}
    for i, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{TUTORIAL.name}, python block {i}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the failure message names the block
            pytest.fail(f"python block {i} of docs/tutorial.md failed: {type(exc).__name__}: {exc}")
    # the tutorial made what it says it makes
    assert (tmp_path / "contour.png").stat().st_size > 0
    assert (tmp_path / "events.hepmc3.gz").stat().st_size > 0
    assert namespace["my_result"].analysis.name == "my-ee"
