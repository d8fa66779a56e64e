"""DNS checks: SPF (RFC 7208), DKIM, DMARC and sending infrastructure."""

__all__: list[str] = []
