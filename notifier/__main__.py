from __future__ import annotations

from notifier.cli.app import main

main()
