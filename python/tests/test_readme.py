"""The README's Python example runs as written (from the repository root)."""
import contextlib
import io
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(os.environ.get("DETKIT_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def readme_example():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python", 1)
    if len(section) < 2:
        pytest.fail("README.md has no '## Python' section")
    block = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert block, "no ```python block in the README's Python section"
    return block.group(1)


def test_readme_example_runs(monkeypatch):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 6
    monkeypatch.chdir(ROOT)
    ns = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "README.md", "exec"), ns)
    assert out.getvalue().count("Average Precision") == 6
