"""Notification sender worker: `python -m backend.notificaciones [--loop]`.

The logic lives in backend/services/notificaciones.py (texts, queue) and
backend/services/envio_notificaciones.py (delivery); this package is the
process entry point (one pass, or a loop with a pause between passes)."""
