"""Pre-send checks (DNS authentication, messages, lists, transport): they report, never record."""

__all__: list[str] = []
