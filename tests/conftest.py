"""Fixtures shared by every suite run in .venv (the Rasa-side tests have their own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, en_marcha


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant running on free ports (see tests/e2e/stack.py)."""
    with en_marcha(Stack(tmp_path_factory.mktemp("stack"))) as s:
        yield s


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    # When an end-to-end test fails, show what the services said.
    if (
        call.when == "call"
        and call.excinfo is not None
        and "stack" in getattr(item, "fixturenames", ())
    ):
        s = item.funcargs.get("stack")  # type: ignore[attr-defined]
        if isinstance(s, Stack):
            item.add_report_section("call", "service logs", s.logs())
