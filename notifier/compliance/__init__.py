"""Notice content rules, legal deadlines and the evidence pack."""

__all__: list[str] = []
