"""A clock the test moves by hand, for code that takes `clock=` (heartbeats, lock staleness)."""


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
