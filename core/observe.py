"""What the engine reports as it works, for metrics: a port with a do-nothing default."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    """Receives counts and timings; bots/metrics.py implements it with Prometheus."""

    def answer_received(self, kind: str, platform: str) -> None:
        """A candidate's take was recorded ("voice" or "text", the candidate's platform)."""
        ...

    def reminder_sent(self, kind: str) -> None:
        """A reminder timer fired and its message was queued (`TimerKind` value)."""
        ...

    def delivery_retried(self, platform: str) -> None:
        """An outbound call is tried again (rate limit or network error)."""
        ...

    def delivery_failed(self, platform: str) -> None:
        """An outbound message was given up on."""
        ...

    def command_handled(self, command: str, seconds: float) -> None:
        """The engine finished one command (its class name), taking `seconds`."""
        ...

    def conflict_retried(self) -> None:
        """A command ran again because another transaction changed its interview first."""
        ...

    def outbox_resent(self) -> None:
        """A sweep did committed outbound work that its process had not done."""
        ...

    def step_given_up(self, kind: str, platform: str) -> None:
        """An outbox step (`core.outbox` kind) failed too often and was given up."""
        ...


class NullObserver:
    """Observes nothing: the default when no metrics are wired."""

    def answer_received(self, kind: str, platform: str) -> None:
        pass

    def reminder_sent(self, kind: str) -> None:
        pass

    def delivery_retried(self, platform: str) -> None:
        pass

    def delivery_failed(self, platform: str) -> None:
        pass

    def command_handled(self, command: str, seconds: float) -> None:
        pass

    def conflict_retried(self) -> None:
        pass

    def outbox_resent(self) -> None:
        pass

    def step_given_up(self, kind: str, platform: str) -> None:
        pass
