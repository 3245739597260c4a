"""What goes into a prediction: input files found in folders, and output names that lose nothing.

    paths -> find_input_files -> files -> plan_output_stems -> one stem per file, unique, never
    overwriting an input
"""

from __future__ import annotations

import os
from pathlib import Path

from lmad.data.files import SUPPORTED_EXTENSIONS, PointFileError


def find_input_files(paths) -> tuple[list[Path], list[str]]:
    """Files as given; folders searched recursively for supported files (sorted).

    A file reached twice (given twice, as a relative and an absolute path, or as a file and
    inside a folder also given) is kept once. A path that does not exist is refused (one
    message naming it); a folder without supported files is refused too.

    Returns (files, notes saying which inputs were dropped as repeats).
    """
    files, notes, seen = [], [], {}
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS)
            if not found:
                raise PointFileError(f"{path}: no point cloud or mesh files in this folder "
                                     f"(lmad reads {', '.join(SUPPORTED_EXTENSIONS)})")
        elif path.exists():
            found = [path]
        else:
            raise PointFileError(f"{path}: no such file or folder")
        for file in found:
            key = file.resolve()
            if key in seen:
                notes.append(f"{file} is {seen[key]} given again: scored once")
                continue
            seen[key] = file
            files.append(file)
    return files, notes


def plan_output_stems(files: list[Path], out_dir: Path, formats) -> tuple[list[str], list[str]]:
    """One output stem per input file (``<out_dir>/<stem>.<format>``), all different.

    Stems are the file names without extension; where two inputs share one (``mug.obj`` and
    ``mug.stl``, or ``a/x/mug.ply`` and ``b/x/mug.ply``; compared ignoring case, as some file
    systems do), the extension and then the folders below the inputs' common folder are added
    until they differ, and what still clashes is numbered (``mug_npy_1``, ``mug_npy_2``). A stem
    never holds more than a file name's worth of path, so every output stays inside ``out_dir``.
    An output that would replace one of the inputs is refused before anything runs. Returns
    (stems, notes saying which names were derived).
    """
    files = [Path(f) for f in files]
    stems = [f.stem for f in files]
    clashing = _clashes(stems)
    stems = [f"{f.stem}_{f.suffix.lstrip('.').lower()}" if i in clashing else s
             for i, (f, s) in enumerate(zip(files, stems))]
    clashing = _clashes(stems)
    if clashing:
        parents = [files[i].resolve().parent for i in clashing]
        common = Path(os.path.commonpath(parents))
        relative = {i: files[i].resolve().parent.relative_to(common).parts for i in clashing}
        base = list(stems)
        for depth in range(1, max(len(parts) for parts in relative.values()) + 1):
            clashing = _clashes(stems)
            if not clashing:
                break
            stems = [("_".join(relative[i][-depth:] + (base[i],)) if i in clashing and i in relative else stems[i])
                     for i in range(len(files))]
    clashing = sorted(_clashes(stems))
    if clashing:  # still the same name (e.g. mug.npy and mug.NPY): number them
        taken = {s.lower() for s in stems}
        groups: dict[str, int] = {}
        for i in clashing:
            number = groups.get(stems[i].lower(), 0)
            while True:
                number += 1
                candidate = f"{stems[i]}_{number}"
                if candidate.lower() not in taken:
                    break
            groups[stems[i].lower()] = number
            taken.add(candidate.lower())
            stems[i] = candidate
    notes = [f"{f} -> {stem}.* (another input has the name {f.stem})" for f, stem in zip(files, stems) if stem != f.stem]
    inputs = {f.resolve() for f in files}
    for stem in stems:
        for fmt in formats:
            target = (Path(out_dir) / f"{stem}.{fmt}").resolve()
            if target in inputs:
                raise ValueError(f"writing {target} would overwrite that input file: choose another --out folder")
    return stems, notes


def _clashes(stems: list[str]) -> set[int]:
    lowered = [s.lower() for s in stems]
    return {i for i, s in enumerate(lowered) if lowered.count(s) > 1}
