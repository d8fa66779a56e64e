"""The send run, in order: import, plan, gate, claim, build, throttle, transport, record."""

__all__: list[str] = []
