"""The action server can register the whole `actions` package (as `rasa run actions` does)."""

from __future__ import annotations

import yaml
from conftest import BOT_DIR as BOT
from rasa_sdk.executor import ActionExecutor


def test_every_custom_action_in_the_domain_is_registered() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registradas = set(executor.actions)
    with open(BOT / "domain.yml", encoding="utf-8") as f:
        domain = yaml.safe_load(f)
    propias = {a for a in domain["actions"] if a.startswith(("action_", "validate_"))}
    assert propias <= registradas, propias - registradas
    # Helper base classes are not actions of their own.
    assert all(nombre for nombre in registradas)
