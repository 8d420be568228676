"""Slack channel: Bolt in HTTP or Socket Mode, Block Kit rendering, the Web API messenger."""
