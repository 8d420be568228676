"""The HTTP API for applicant tracking systems (docs/api.md)."""

from bots.api.routes import add_api

__all__ = ["add_api"]
