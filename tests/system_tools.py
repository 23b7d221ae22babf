"""System tools some tests need (Chromium, redis-server, scrapyd): missing means failing.

``scripts/install-test-deps.sh`` (run by ``make test``) installs them. A machine that cannot
have one opts out explicitly, by name, so CI can never skip a test silently:

    DANGJIAN_TESTS_WITHOUT=chromium,redis-server make test
"""

from __future__ import annotations

import os
import shutil

import pytest

OPT_OUT = "DANGJIAN_TESTS_WITHOUT"


def opted_out() -> set[str]:
    """The tools the environment says this machine goes without."""
    return {name.strip() for name in os.environ.get(OPT_OUT, "").split(",") if name.strip()}


def require(tool: str, *executables: str) -> str:
    """Return the path of the first of ``executables`` found on PATH for ``tool``.

    Fails the test when none is found, unless ``tool`` is named in ``DANGJIAN_TESTS_WITHOUT``,
    in which case it skips with that reason.
    """
    path = next((p for p in map(shutil.which, executables or (tool,)) if p), None)
    if path:
        return path
    message = (
        f"{tool} is missing ({', '.join(executables or (tool,))} not on PATH): run "
        f"scripts/install-test-deps.sh, or set {OPT_OUT}={tool} on a machine that cannot have it"
    )
    if tool in opted_out():
        pytest.skip(message)
    pytest.fail(message)
