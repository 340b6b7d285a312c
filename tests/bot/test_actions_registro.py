"""The action server can register the whole `bot.actions` package (as `rasa run actions` does)."""

from __future__ import annotations

import yaml
from conftest import ROOT
from rasa_sdk.executor import ActionExecutor


def test_every_custom_action_in_the_domain_is_registered() -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    registradas = set(executor.actions)
    with open(ROOT / "domain.yml", encoding="utf-8") as f:
        domain = yaml.safe_load(f)
    propias = {a for a in domain["actions"] if a.startswith(("action_", "validate_"))}
    assert propias <= registradas, propias - registradas
    # Helper base classes are not actions of their own.
    assert all(nombre for nombre in registradas)
