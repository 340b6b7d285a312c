"""Rasa NLU components of our own (see config.yml)."""
