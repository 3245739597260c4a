"""The README's generated tables: each sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
and is replaced whole by the benchmark that measures it."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def write_readme_table(name: str, table: str, readme: Path = README) -> bool:
    """Replace the table ``name`` in the README; False (and nothing written) when its markers are missing."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    if start not in text or end not in text:
        print(f"{readme} has no {start} ... {end} markers; the table was not written there")
        return False
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")
    print(f"updated the table {name} in {readme}")
    return True
