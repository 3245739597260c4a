"""Predicting a set of files into an output folder: what ``lmad predict`` and ``lmad demo`` run.

Nothing is lost: output names are unique and never an input's (``plan_output_stems``), the
output folder is checked to be writable before any work, and a file that fails (whatever the
reason) is reported while the others go on.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lmad.predict.inputs import find_input_files, plan_output_stems
from lmad.predict.outputs import write_outputs


FILES_FOR_COMPILED_KERNELS = 4


@dataclass
class PredictionReport:
    """What a run did: files written, inputs that failed (path, reason), derived names and notes."""

    inputs: list[Path]
    written: list[Path] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summaries: dict = field(default_factory=dict)  # input path -> AffordanceResult.summary()

    @property
    def scored(self) -> int:
        return len(self.inputs) - len(self.failures)


def prepare_output_folder(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and check that files can be written there (before any work)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file; give a folder for the outputs")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".lmad-write-check-"):
            pass
    except OSError as error:
        raise ValueError(f"cannot write into {out_dir} ({error.strerror or error}); "
                         "choose a writable --out folder") from error
    return out_dir


def predict_files(detector, paths, queries, out_dir, formats=("npz",), batch_size: int = 8,
                  attention: bool = False, progress: bool = True) -> PredictionReport:
    """Score every file under ``paths`` and write ``<out_dir>/<stem>.<format>`` for each.

    Returns a :class:`PredictionReport`; raises ``ValueError`` only for problems that concern
    the whole run (no inputs, an output that would overwrite an input, an unwritable folder).
    """
    from tqdm.auto import tqdm

    files, repeats = find_input_files(paths)
    out_dir = Path(out_dir)
    stems, notes = plan_output_stems(files, out_dir, formats)
    prepare_output_folder(out_dir)
    report = PredictionReport(files, notes=repeats + notes)
    if len(files) >= FILES_FOR_COMPILED_KERNELS:
        from lmad.ops.compiled import use_compiled_kernels

        use_compiled_kernels()  # loading them costs less than what many files' sampling gains
    bar = tqdm(total=len(files), desc="predict", unit="file", disable=not progress)
    bar.set_postfix_str("reading and scoring")
    for index, outcome in detector.iter_predictions(files, queries, batch_size, attention, skip_errors=True):
        path = files[index]
        if isinstance(outcome, Exception):
            report.failures.append((path, _reason(outcome)))
            bar.write(f"skipped {path}: {_reason(outcome)}")
        else:
            try:
                for fmt in formats:  # a large cloud's outputs take seconds each: say which one is being written
                    bar.set_postfix_str(f"{path.name}: writing {fmt} ({len(outcome.points):,} points)")
                    report.written += write_outputs(outcome, out_dir, stems[index], [fmt])
                report.summaries[str(path)] = outcome.summary()
                report.notes += outcome.notes
            except Exception as error:  # noqa: BLE001 - a write failure is this file's
                report.failures.append((path, f"writing its outputs failed: {_reason(error)}"))
        bar.update()
        bar.set_postfix_str("reading and scoring" if bar.n < len(files) else "done")
    bar.close()
    return report


def _reason(error: Exception) -> str:
    """A one-line reason: lmad's own errors say it all; others get their type for context."""
    from lmad.data.files import PointFileError

    if isinstance(error, (PointFileError, ValueError)):
        return str(error)
    return f"{type(error).__name__}: {error}"
