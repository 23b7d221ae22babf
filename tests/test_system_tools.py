"""A missing system tool fails the tests that need it, unless the machine opts out by name."""

from __future__ import annotations

import pytest

from .system_tools import OPT_OUT, require


def test_missing_tool_fails_without_an_opt_out(monkeypatch):
    monkeypatch.delenv(OPT_OUT, raising=False)
    with pytest.raises(pytest.fail.Exception, match="no-such-tool is missing"):
        require("no-such-tool", "no-such-binary-dangjian")


def test_missing_tool_skips_when_opted_out_by_name(monkeypatch):
    monkeypatch.setenv(OPT_OUT, "chromium, no-such-tool")
    with pytest.raises(pytest.skip.Exception, match=OPT_OUT):
        require("no-such-tool", "no-such-binary-dangjian")


def test_present_tool_returns_its_path():
    assert require("sh").endswith("/sh")
