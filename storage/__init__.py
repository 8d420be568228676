"""Persistence: SQLModel tables, the unit of work implementing core's ports, migrations, media."""
