"""Documentation that runs: every example script and every Python block of the README and docs/ runs as a
plain script and prints exactly the output shown beside it, so the docs cannot go stale.

``python -m tests.test_examples`` rewrites the expected outputs (``docs/examples/*.out`` and the ``text``
blocks after "It prints:") after a change that alters model output.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: A Python block and the output it prints, shown in a ``text`` block after a line "It prints:".
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:\nIt prints:\n\n```text\n(?P<output>.*?)```\n)?", re.S)
#: Command-line arguments of example scripts that need them ({tmp}: a fresh folder).
ARGUMENTS = {"sweep_figures": ["{tmp}/sweep_example", "--quick"]}


def run_script(path: Path, cwd: Path, arguments: list[str] = ()) -> str:
    """Run a file as a plain script, as a user would; return what it printed (exit status 0 required)."""
    done = subprocess.run([sys.executable, str(path), *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"{path.name} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def example_output(name: str, tmp: Path) -> str:
    arguments = [a.format(tmp=tmp) for a in ARGUMENTS.get(name, [])]
    return run_script(EXAMPLES / f"{name}.py", tmp, arguments)


def doc_blocks() -> list[tuple[str, str, str | None]]:
    """(label, code, expected output or None) of every Python block in the README and docs/."""
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{document.name}:{line}", match["code"], match["output"]))
    return found


def block_output(code: str, tmp: Path) -> str:
    script = tmp / "example.py"
    script.write_text(code)
    return run_script(script, tmp)


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.py")))
def test_the_example_script_prints_its_documented_output(name, tmp_path):
    expected = EXAMPLES / f"{name}.out"
    assert expected.exists(), f"docs/examples/{name}.out missing: run python -m tests.test_examples"
    assert example_output(name, tmp_path) == expected.read_text()


@pytest.mark.parametrize("label,code,output", doc_blocks(), ids=[b[0] for b in doc_blocks()])
def test_the_documented_python_block_runs_as_a_script_and_prints_what_the_docs_show(label, code, output, tmp_path):
    assert output is not None, f"{label}: a Python block needs its output after it (It prints: + a text block)"
    assert block_output(code, tmp_path) == output


def test_the_docs_have_examples_to_check():
    assert len(doc_blocks()) >= 3 and len(list(EXAMPLES.glob("*.py"))) >= 3


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for path in sorted(EXAMPLES.glob("*.py")):
            (EXAMPLES / f"{path.stem}.out").write_text(example_output(path.stem, Path(folder)))
            print(f"wrote docs/examples/{path.stem}.out")
        for document in DOCUMENTS:
            text = document.read_text()

            def with_output(match: re.Match[str]) -> str:
                output = block_output(match["code"], Path(folder))
                return f"```python\n{match['code']}```\n\nIt prints:\n\n```text\n{output}```\n"

            new = BLOCK.sub(with_output, text)
            if new != text:
                document.write_text(new)
                print(f"updated the outputs in {document.relative_to(ROOT)}")
