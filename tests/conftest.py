"""Test-session settings.

The networks in the tests are tiny: their matrix products gain nothing from a
second BLAS thread and, on a busy 2-core machine, lose a great deal to threads
spinning against each other. The whole session runs BLAS on one thread.
"""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield
