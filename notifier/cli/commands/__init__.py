"""One module per command group: each declares its parsers (``register``) and its handlers
(parse, call the part that owns the job, format the answer). The dispatch table is in
:mod:`notifier.cli.app`."""

from __future__ import annotations

__all__: list[str] = []
