"""System > Permissions: admin users, their roles on the ACL tree, locked users and the caller's own password.

One question per module: ``validation`` (is this input acceptable?), ``guards`` (may this caller make this
change: the escalation guard, and the last-admin rule as conditional statements), ``roles`` and ``users``
(reads and writes), ``locks`` (who is locked out, and unlocking).
"""
