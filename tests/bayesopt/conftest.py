"""One BLAS thread for these tests: the models fit tiny matrices, where a second thread only waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="package")
def one_blas_thread() -> Iterator[None]:
    """Limit numpy's and scipy's BLAS to one thread (scikit-optimize's GP fits are 5x faster on a busy machine)."""
    import scipy.linalg  # noqa: F401  load every BLAS first: limits apply to the libraries loaded
    import skopt  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
