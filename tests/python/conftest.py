"""pytest setup for the Python package: ctest (tests/CMakeLists.txt, test `python`) runs
`/usr/bin/python3 -m pytest tests/python` with PYTHONPATH=<build>/python and HP_HPTRAIN_BINARY
set to the hptrain program of the same build; by hand:

    PYTHONPATH=build-test/python HP_HPTRAIN_BINARY=build-test/hptrain python3 -m pytest tests/python
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")


@pytest.fixture(scope="session")
def hptrain_binary():
    path = os.environ.get("HP_HPTRAIN_BINARY", os.path.join(ROOT, "build-test", "hptrain"))
    assert os.access(path, os.X_OK), f"{path}: not built (set HP_HPTRAIN_BINARY)"
    return path


@pytest.fixture(scope="session")
def run_hptrain(hptrain_binary):
    """Runs the program (check=True); its output on failure."""
    def run(*args, cwd=None):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        p = subprocess.run([hptrain_binary, "--log-level", "warn", *map(str, args)], cwd=cwd,
                           env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"hptrain {' '.join(map(str, args))}:\n{p.stdout}\n{p.stderr}"
        return p
    return run


def reference(name):
    return os.path.join(DATA, "reference", name)
