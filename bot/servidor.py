"""How scripts/rasa.sh starts Rasa: `python -m bot.servidor run ...` takes the
same arguments as the `rasa` command and applies one fix to Rasa 3.6 first.

Rasa checks every answer of the action server with `jsonschema.validate`, which
validates Rasa's own events schema against the JSON Schema metaschema before it
looks at the answer: measured with py-spy over 40 saldo conversations, that
check was ~60 % of the Rasa process's CPU (three action calls per NIP turn).
The schema never changes, so it is checked once at start and its validator
reused; answers are accepted or refused exactly as before, with Rasa's message.
"""

from __future__ import annotations

import sys
from typing import Any


def acelerar_validacion() -> None:
    """Replaces `RemoteAction._validate_action_result` by the same check with a
    validator built once (idempotent)."""
    from jsonschema import exceptions
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "validador_unico", False):
        return
    esquema = RemoteAction.action_response_format_spec()
    clase = validator_for(esquema)
    clase.check_schema(esquema)  # what jsonschema.validate did on every call
    validador = clase(esquema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validador.iter_errors(result))
        if error is not None:
            error.message += (  # Rasa's own wording (rasa/core/actions/action.py)
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    _validate_action_result.validador_unico = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def main() -> None:
    acelerar_validacion()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
