"""Custom actions of the CAPP assistant (rasa_sdk): one module per feature."""

from bot import registro_privado

# No CURP, NIP or token in any log line of the action server.
registro_privado.instalar()
