"""What goes into a prediction: input files found in folders, and output names that lose nothing.

    paths -> find_input_files -> files -> plan_output_stems -> one stem per file, unique, never
    overwriting an input
"""

from __future__ import annotations

from pathlib import Path

from lmad.data.files import SUPPORTED_EXTENSIONS, PointFileError


def find_input_files(paths) -> list[Path]:
    """Files as given; folders searched recursively for supported files (sorted).

    A path that does not exist is refused (one message naming it); a folder without supported
    files is refused too.
    """
    files = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS)
            if not found:
                raise PointFileError(f"{path}: no point cloud or mesh files in this folder "
                                     f"(lmad reads {', '.join(SUPPORTED_EXTENSIONS)})")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise PointFileError(f"{path}: no such file or folder")
    return files


def plan_output_stems(files: list[Path], out_dir: Path, formats) -> tuple[list[str], list[str]]:
    """One output stem per input file (``<out_dir>/<stem>.<format>``), all different.

    Stems are the file names without extension; where two inputs share one (``mug.obj`` and
    ``mug.stl``, or ``a/x/mug.ply`` and ``b/x/mug.ply``), the extension and then the parent
    folders are added until they differ. An output that would replace one of the inputs is
    refused before anything runs. Returns (stems, notes saying which names were derived).
    """
    files = [Path(f) for f in files]
    stems = [f.stem for f in files]
    notes = []
    clashing = _clashes(stems)
    if clashing:
        stems = [f"{f.stem}_{f.suffix.lstrip('.').lower()}" if i in clashing else s
                 for i, (f, s) in enumerate(zip(files, stems))]
    base, depth = list(stems), 1
    while _clashes(stems) and depth <= max(len(f.resolve().parts) for f in files):
        clashing = _clashes(stems)
        stems = [("_".join(f.resolve().parent.parts[-depth:] + (base[i],)) if i in clashing else stems[i])
                 for i, f in enumerate(files)]
        depth += 1
    for i in sorted(_clashes(stems)):  # identical paths given twice: number them
        stems[i] = f"{stems[i]}_{i}"
    for f, stem in zip(files, stems):
        if stem != f.stem:
            notes.append(f"{f} -> {stem}.* (another input has the name {f.stem})")
    inputs = {f.resolve() for f in files}
    for stem in stems:
        for fmt in formats:
            target = (Path(out_dir) / f"{stem}.{fmt}").resolve()
            if target in inputs:
                raise ValueError(f"writing {target} would overwrite that input file: choose another --out folder")
    return stems, notes


def _clashes(stems: list[str]) -> set[int]:
    return {i for i, s in enumerate(stems) if stems.count(s) > 1}
