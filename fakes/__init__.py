"""In-repo fakes of the chat platforms (Telegram Bot API, Slack) for tests and benchmarks.

Not part of the shipped package: `pyproject.toml` packages only core, bots and storage.
"""
