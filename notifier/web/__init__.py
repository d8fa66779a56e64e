"""The local web servers: the preview console and `notify serve` (SNS, unsubscribe)."""

__all__: list[str] = []
