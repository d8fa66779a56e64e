"""Print-ready letters: who gets one, building batch PDFs and their manifest for the mail house
(resumably), and reading the mail house's returned-mail file back."""

from __future__ import annotations

__all__: list[str] = []
