"""How people say numbers and options, and what a CURP looks like and how it is
masked: one home for both Python environments.

`bot/` (.venv-rasa, Python 3.10), `ivr/` and `backend/` (.venv, Python 3.11)
import this package; it uses only the standard library and text2num, pinned to the
same version in requirements/app.txt and requirements/rasa.txt. Both Docker
images copy the whole repository, so it ships with each. Keep it free of
Rasa, FastAPI and pydantic imports.
"""
