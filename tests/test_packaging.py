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


def test_the_lmad_command_sets_up_its_process():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("LMAD_ALLOCATOR", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-m", "lmad", "info"], capture_output=True, text=True, env=env, check=True)
    assert "OpenMP wait   GOMP_SPINCOUNT=4000" in out.stdout
    assert "allocator     the system's default" in out.stdout  # keeping freed memory is for `lmad train`
    code = ("import sys; sys.argv = ['lmad', 'train']; import lmad.cli as c, os; "
            "os.execve = lambda exe, argv, env: print(sorted(k for k in env if k.startswith(('MALLOC_', 'GOMP_'))))"
            "; c.main = lambda: 0; c.console_main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "MALLOC_MMAP_THRESHOLD_" in out.stdout and "GOMP_SPINCOUNT" in out.stdout
    env["LMAD_ALLOCATOR"] = "system"
    out = subprocess.run([sys.executable, "-m", "lmad", "info"], capture_output=True, text=True, env=env, check=True)
    assert "OpenMP wait   GOMP_SPINCOUNT=4000" in out.stdout  # the allocator opt-out leaves the thread setting
    code = "import os; before = dict(os.environ); import lmad; print(dict(os.environ) == before)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "True"  # importing lmad writes nothing into the environment
