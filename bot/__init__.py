"""The assistant's Rasa side: actions, channels, stores (imported as `bot.*` from
the repository root)."""
