"""Shared setup for the Rasa-side suites (run with .venv-rasa).

Rasa runs with bot/ as its working directory, so tests import the bot's
packages the same way Rasa does: `import actions`, `import channels`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"

if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
