"""What a benchmark records of where it ran: the machine, its load, the code's commit.

One place for the facts every benchmark writes beside its numbers, so that
each result file says the same things the same way:

- :func:`machine`: the processor, the cores, the platform, the versions of
  Python and the libraries that matter (:func:`versions`), and the BLAS in
  use;
- :func:`load_average`: the 1-, 5- and 15-minute load, read at the start and
  at the end of a run (a time measured on a loaded machine is slower);
- :func:`git_commit`: the commit the package was run at.
"""

import contextlib
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LIBRARIES = ("skae", "numpy", "scipy", "scikit-learn", "umap-learn", "pynndescent", "torch")
THREAD_VARIABLES = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
)


def cpu_model():
    """The processor's name, from /proc/cpuinfo where there is one."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def load_average():
    """The 1-, 5- and 15-minute load averages, rounded, or None where unknown."""
    with contextlib.suppress(OSError, AttributeError):
        return [round(value, 2) for value in os.getloadavg()]
    return None


def git_commit():
    """The short commit of this checkout, with "+changes" when ``skae/`` differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skae"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return (commit + ("+changes" if dirty else "")) or None


def versions(libraries=LIBRARIES):
    """The installed version of each library (those not installed are left out)."""
    found = {"python": platform.python_version()}
    for name in libraries:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def blas():
    """The BLAS libraries NumPy and SciPy use, with their thread counts."""
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [{key: pool.get(key) for key in keys} for pool in threadpool_info()]


def machine():
    """The processor, cores, platform, versions and BLAS: a result file's header."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        **versions(),
        "blas": blas(),
        "env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }
