"""Scheduled follow-ups and their send windows."""

__all__: list[str] = []
