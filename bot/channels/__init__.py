"""Custom Rasa input channels (loaded from credentials.yml as `bot.channels.<module>.<Class>`)."""
