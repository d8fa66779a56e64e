"""Notice channels: for each person, the lawful way to reach them (email, a letter, or none
with the data we hold), decided from rules as data and the evidence columns of the lists."""

from __future__ import annotations

__all__: list[str] = []
