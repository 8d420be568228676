"""The Telegram channel: python-telegram-bot adapter for candidates and review groups."""
