"""Delivery feedback: bounce parsing, reply classification, SES events, ingest."""

__all__: list[str] = []
