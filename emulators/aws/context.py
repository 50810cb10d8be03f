"""The emulator's shared state, wired once by the launcher and handed to
the middleware, the StackSet handlers, the runner and the admin API."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calllog import CallLog
    from datadog_cr import DatadogCustomResource
    from faults import Faults
    from operations import Runner
    from org import Org
    from stacks import Stacks
    from stacksets import StackSets
    from templates import TemplateStore


@dataclass
class Settings:
    instance_seconds: float = 1.0
    # Each instance takes instance_seconds plus a uniform draw in [0, jitter): real
    # stacks differ, and a batch lasts as long as its slowest instance.
    instance_jitter_seconds: float = 0.0
    # "omit": suspended accounts in a targeted OU get no stack instance.
    # "skipped": they get one with DetailedStatus SKIPPED_SUSPENDED_ACCOUNT (AWS's 2023 behaviour).
    suspended_instances: str = "omit"


class Context:
    lock: threading.RLock
    settings: Settings
    org: "Org"
    templates: "TemplateStore"
    datadog: "DatadogCustomResource"
    faults: "Faults"
    calls: "CallLog"
    runner: "Runner"
    stacksets: "StackSets"
    stacks: "Stacks"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.settings = Settings()

    def org_changed(self, before: dict[str, tuple[str, str]]) -> None:
        """Report an organization change (accounts added, moved, suspended,
        removed) so auto-deployment can react. ``before`` is
        ``org.snapshot()`` taken before the change."""
        with self.lock:
            self.org.changed()
            self.stacksets.on_org_changed(before, self.org.snapshot())
