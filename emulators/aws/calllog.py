"""Log of API calls answered by the emulator (any service), for tests that
count calls or check retries. Records the action and a few identifying
fields, never parameter values (the Datadog keys travel as StackSet
Parameters) nor credentials."""

from __future__ import annotations

import threading
import time
from collections import deque

from query_protocol import iso

MAX_ENTRIES = 10_000


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._discarded = 0

    def record(
        self,
        *,
        service: str,
        action: str,
        status: int,
        error: str | None = None,
        call_as: str | None = None,
        stack_set: str | None = None,
        operation_id: str | None = None,
        region: str | None = None,
    ) -> None:
        with self._lock:
            self._seq += 1
            if len(self._entries) == MAX_ENTRIES:
                self._discarded += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "time": iso(time.time()),
                    "service": service,
                    "action": action,
                    "call_as": call_as,
                    "stack_set_name": stack_set,
                    "operation_id": operation_id,
                    "region": region,
                    "status": status,
                    "error": error,
                }
            )

    def describe(self) -> dict:
        with self._lock:
            return {"calls": list(self._entries), "discarded": self._discarded}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._discarded = 0
