"""The incident-team digest (issue 17 must-have 4): where the campaign stands, counts only."""

__all__: list[str] = []
