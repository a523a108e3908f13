import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# One XLA compilation cache for the whole run, shared by the pytest-xdist workers and the
# command-line subprocesses the tests start (they compile the same tiny programs again and
# again). It is new for every run (named by the pid of the controlling pytest process, the
# workers' parent), so no run reuses another's, and the controlling process removes it at the
# end.
RUN_ID = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
COMPILATION_CACHE = Path(tempfile.gettempdir()) / f"autoreg-tests-xla-cache-{RUN_ID}"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(COMPILATION_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def pytest_sessionfinish(session, exitstatus):
    if not hasattr(session.config, "workerinput"):  # the controller, after every worker
        shutil.rmtree(COMPILATION_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the project; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA
