"""What the bot said in a conversation's last turn, read from its tracker.

The channels need it between turns (the buttons on screen, to map "2" back to
a payload; the last answer, to repeat it). Keeping it in the tracker instead
of the process's memory lets any Rasa replica take the next turn.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.core.events import BotUttered, UserUttered


def como_mensaje(evento: BotUttered) -> Dict[str, Any]:
    """A BotUttered event as output channels collect it
    ({"text", "buttons", "custom", "attachment", "image"})."""
    datos = {k: v for k, v in (evento.data or {}).items() if v is not None}
    if evento.text:
        datos["text"] = evento.text
    return datos


def mensajes_del_ultimo_turno(tracker: Any) -> List[Dict[str, Any]]:
    """The bot messages after the latest user message."""
    mensajes: List[Dict[str, Any]] = []
    for evento in reversed(list(getattr(tracker, "events", []) or [])):
        if isinstance(evento, UserUttered):
            break
        if isinstance(evento, BotUttered):
            mensajes.append(como_mensaje(evento))
    mensajes.reverse()
    return mensajes


def botones_del_ultimo_turno(tracker: Any) -> List[Dict[str, Any]]:
    """The buttons of the last bot message of the latest turn that had any."""
    botones: List[Dict[str, Any]] = []
    for mensaje in mensajes_del_ultimo_turno(tracker):
        if mensaje.get("buttons"):
            botones = list(mensaje["buttons"])
    return botones
