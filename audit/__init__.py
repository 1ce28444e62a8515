"""The audit trail: one append-only row per security-relevant event, chained by hashes so that a change to the
log is found (``verify-audit-log``).

``record`` is the one entry point (``audit.log``); who acted and from where come from the request being
served (``audit.context``), the action names from ``audit.actions``, and the spelling of a change from
``audit.diff``. ``audit.verify`` walks the chain, ``audit.retention`` cuts whole prefixes. This package imports
only ``models``, ``observability`` and the server's clock and store settings, so every room may record.
"""

from audit.actions import Action, ActorType, Target
from audit.context import Actor
from audit.log import record

__all__ = ["Action", "Actor", "ActorType", "Target", "record"]
