"""scripts/ensure_env.py: .env with mode 0600, NIP_PEPPER generated, values kept."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

from tests.backend.conftest import ROOT


def _modulo(monkeypatch: pytest.MonkeyPatch, env: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ensure_env", ROOT / "scripts" / "ensure_env.py")
    assert spec and spec.loader
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    monkeypatch.setattr(modulo, "ENV", env)
    return modulo


def _valores(env: Path) -> dict[str, str]:
    return dict(
        x.split("=", 1) for x in env.read_text().splitlines() if x and not x.startswith("#")
    )


def test_env_nuevo_es_privado_y_trae_pimienta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    _modulo(monkeypatch, env).main()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    valores = _valores(env)
    assert len(valores["NIP_PEPPER"]) >= 40 and valores["ENTORNO"] == "desarrollo"


def test_env_viejo_se_corrige_sin_cambiar_valores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("TOKEN_SECRET=el-de-siempre\nENTORNO=produccion\n")
    env.chmod(0o644)
    _modulo(monkeypatch, env).main()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    valores = _valores(env)
    assert valores["TOKEN_SECRET"] == "el-de-siempre" and valores["ENTORNO"] == "produccion"
    assert "NIP_PEPPER" in valores
    # Nothing missing any more: the file is left as it is, mode included.
    antes = env.read_text()
    _modulo(monkeypatch, env).main()
    assert env.read_text() == antes and stat.S_IMODE(env.stat().st_mode) == 0o600
