"""Custom Rasa input channels (loaded from credentials.yml as `channels.<module>.<Class>`)."""
