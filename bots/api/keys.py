"""API keys for the HTTP API: created, revoked, listed and verified in storage/api_keys.py."""

from storage.api_keys import KeyError_, KeyInfo, create_key, list_keys, revoke_key, verify_key

__all__ = ["KeyError_", "KeyInfo", "create_key", "list_keys", "revoke_key", "verify_key"]
