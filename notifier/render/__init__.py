"""Notices out: Jinja rendering, MIME, DKIM signing. Pure: no wire, no storage, no screen."""

__all__: list[str] = []
