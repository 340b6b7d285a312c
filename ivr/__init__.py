"""Phone line (Twilio Voice) for CAPP: ISSSTETEL opción 5."""
