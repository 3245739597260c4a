"""The generated tables of the documentation: each sits between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` in the document that is its home, and is written only by the script that
measures it (never by hand)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# table name -> the documents it appears in (relative to the repository root)
TABLE_HOMES = {
    "grasp-voxels-table": ["lmad/checkpoints/default/README.md"],  # benchmarks/grasp_voxels.py
    "grasp-voxels-summary": ["README.md"],  # benchmarks/grasp_voxels.py
    "real-objects-table": ["lmad/checkpoints/default/README.md"],  # benchmarks/real_objects.py
    "validation-table": ["lmad/checkpoints/default/README.md"],  # benchmarks/validation_table.py
    "speed-table": ["docs/performance.md"],  # benchmarks/speed.py
    "serve-table": ["docs/serving.md"],  # benchmarks/serve_load.py
    "accuracy-table": ["docs/baselines.md"],  # benchmarks/accuracy.py
    "synonyms-table": ["docs/baselines.md"],
    "same-recipe-table": ["docs/baselines.md"],
}


def write_table(name: str, table: str, homes: list[Path] | None = None) -> bool:
    """Replace the table ``name`` in each of its documents; False where a document lacks its markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    written = True
    for home in homes or [ROOT / path for path in TABLE_HOMES[name]]:
        text = home.read_text()
        if start not in text or end not in text:
            print(f"{home} has no {start} ... {end} markers; the table was not written there")
            written = False
            continue
        head, rest = text.split(start, 1)
        home.write_text(f"{head}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")
        print(f"updated the table {name} in {home}")
    return written
