"""Developer tools: `python -m tools.whatsapp` simulates a WhatsApp user."""
