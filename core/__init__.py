"""The interview engine: domain model, state machine, commands, handlers and ports (stdlib only)."""
