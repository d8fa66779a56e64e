"""Recipients in: CSV lists, segments, suppressions, and who is in each audience."""

__all__: list[str] = []
