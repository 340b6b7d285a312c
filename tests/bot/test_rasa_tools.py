"""Rasa's own checks: `rasa data validate` and the test stories, on the trained model."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
RASA = str(Path(__file__).resolve().parents[2] / ".venv-rasa" / "bin" / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_rasa_data_validate_is_clean() -> None:
    r = subprocess.run([RASA, "data", "validate", "--max-history", "5"], cwd=BOT, env=ENV,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def test_test_stories_pass_without_prediction_errors(tmp_path: Path) -> None:
    model = BOT / "models" / "capp.tar.gz"
    assert model.exists(), "scripts/train.sh trains the model before the suites run"
    r = subprocess.run(
        [RASA, "test", "core", "--stories", "tests", "--model", str(model),
         "--fail-on-prediction-errors", "--out", str(tmp_path)],
        cwd=BOT, env=ENV, capture_output=True, text=True, timeout=1200,
    )
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    report = json.loads((tmp_path / "story_report.json").read_text())
    # Every predicted action in every test story was right.
    assert report["weighted avg"]["f1-score"] == 1.0
    assert not (tmp_path / "failed_test_stories.yml").read_text().strip().startswith("- story")
