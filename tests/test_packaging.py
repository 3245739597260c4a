"""The package installs what it needs: every folder of lmad/ is listed, imports stay light."""

import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "lmad").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["lmad.examples"] == "examples"
    assert (REPO / "examples" / "manifest.json").is_file()


def test_import_lmad_is_light():
    code = "import sys, lmad; print(any(m in sys.modules for m in ('torch', 'transformers', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_lmad_info_runs_offline():
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "lmad", "info"], capture_output=True, text=True, check=True,
                         cwd=REPO, env=env)
    assert "torch" in out.stdout and "language model" in out.stdout and "NOT FOUND" not in out.stdout


def test_the_lmad_command_runs_with_the_allocator_that_keeps_freed_memory():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LMAD_ALLOCATOR"}
    out = subprocess.run([sys.executable, "-m", "lmad", "info"], capture_output=True, text=True, env=env, check=True)
    assert "allocator     glibc, keeping freed memory" in out.stdout
    env["LMAD_ALLOCATOR"] = "system"
    out = subprocess.run([sys.executable, "-m", "lmad", "info"], capture_output=True, text=True, env=env, check=True)
    assert "allocator     the system's default" in out.stdout
