"""Fault injection registry fed by the admin API and consumed by the
request middleware (throttling), the StackSet handlers (operation in
progress) and the operation runner (instance failures). Thread-safe."""

from __future__ import annotations

import threading


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throttle: dict[str, int] = {}  # action -> remaining
        # (stack set name, administration region or None) -> remaining
        self._in_progress: dict[tuple[str, str | None], int] = {}
        # account -> list of [remaining, reason, region or None]
        self._instance: dict[str, list[list]] = {}

    def add_throttle(self, action: str, count: int) -> None:
        with self._lock:
            self._throttle[action] = self._throttle.get(action, 0) + count

    def take_throttle(self, action: str) -> bool:
        with self._lock:
            n = self._throttle.get(action, 0)
            if n <= 0:
                return False
            self._throttle[action] = n - 1
            return True

    def add_in_progress(self, stack_set: str, count: int, region: str | None = None) -> None:
        with self._lock:
            key = (stack_set, region)
            self._in_progress[key] = self._in_progress.get(key, 0) + count

    def take_in_progress(self, stack_set: str, region: str, default: bool) -> bool:
        """A fault for this set's region, else (when ``default``: the set
        is the one the admin API means by a bare name) one without region.
        The region-less form may be injected before the set exists."""
        with self._lock:
            keys = [(stack_set, region)] + ([(stack_set, None)] if default else [])
            for key in keys:
                n = self._in_progress.get(key, 0)
                if n > 0:
                    self._in_progress[key] = n - 1
                    return True
            return False

    def add_instance_failures(self, accounts: list[str], reason: str, count: int, region: str | None) -> None:
        with self._lock:
            for a in accounts:
                self._instance.setdefault(a, []).append([count, reason, region])

    def take_instance_failure(self, account: str, region: str) -> str | None:
        """The reason the next instance operation in (account, region) must fail with, if any."""
        if not self._instance:
            return None
        with self._lock:
            for entry in self._instance.get(account, []):
                if entry[0] > 0 and (entry[2] is None or entry[2] == region):
                    entry[0] -= 1
                    return entry[1]
        return None

    def clear(self) -> None:
        with self._lock:
            self._throttle.clear()
            self._in_progress.clear()
            self._instance.clear()

    def describe(self) -> dict:
        with self._lock:
            return {
                "throttle": {k: v for k, v in self._throttle.items() if v > 0},
                # "name" (no region given) or "name@region"
                "operation_in_progress": {
                    (name if region is None else f"{name}@{region}"): v
                    for (name, region), v in self._in_progress.items()
                    if v > 0
                },
                "instance_failures": {
                    a: [{"remaining": e[0], "reason": e[1], "region": e[2]} for e in entries if e[0] > 0]
                    for a, entries in self._instance.items()
                    if any(e[0] > 0 for e in entries)
                },
            }
