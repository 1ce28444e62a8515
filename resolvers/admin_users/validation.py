"""Is this role or user input acceptable? Checked field by field, every problem at once; nothing is written
while there is any. Ids are Relay global ids (``AdminRole:<n>``, ``AdminUser:<n>``), as integrations' are.
"""

from __future__ import annotations

import binascii
import dataclasses
from collections.abc import Sequence
from typing import Any

from strawberry import UNSET
from strawberry.relay import GlobalID

from auth.grants import GrantSpec
from auth.passwords import password_rule_problems
from models.names import name_key
from resolvers.problems import Problem, UserErrorCode
from resolvers.validation import InputChecker, checked_grant

ROLE_NODE = "AdminRole"
USER_NODE = "AdminUser"
#: The columns' size.
MAX_TEXT = 255

#: Ids are 32-bit integer columns.
_MAX_ID = 2**31 - 1


def global_id(type_name: str, number: int) -> str:
    return str(GlobalID(type_name, str(number)))


def parse_global_id(value: str, type_name: str) -> int | None:
    """The database id behind a global id of ``type_name``, or None when it is not one."""
    try:
        gid = GlobalID.from_id(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if gid.type_name != type_name or not gid.node_id.isascii() or not gid.node_id.isdigit():
        return None
    if len(gid.node_id) > len(str(_MAX_ID)):
        return None
    number = int(gid.node_id)
    return number if 0 < number <= _MAX_ID else None


def not_found_message(what: str, value: str) -> str:
    return f'The {what} with ID "{value}" doesn\'t exist.'


def _given(value: Any) -> bool:
    return value is not UNSET and value is not None


# --------------------------------------------------------------------------------------- roles


@dataclasses.dataclass
class RoleInput:
    """What role create and update accept; ``UNSET`` (or None) means "not given": an update keeps it."""

    name: Any = UNSET
    #: ``"ALL"`` or ``"CUSTOM"``.
    resource_access: Any = UNSET
    resources: Any = UNSET


@dataclasses.dataclass
class CheckedRole:
    #: Role columns to write (``name`` with its ``name_key``).
    fields: dict[str, Any]
    #: The grant to store, or None to keep the stored one.
    grant: GrantSpec | None
    problems: list[Problem]


def check_role(data: RoleInput, *, creating: bool, stored_selection: Sequence[str] = ()) -> CheckedRole:
    """Check every given field (all of them when creating); ``fields`` is only usable without problems."""
    check = InputChecker(("input",))
    fields: dict[str, Any] = {}
    if creating or _given(data.name):
        name = check.text("name", data.name if _given(data.name) else None, max_length=MAX_TEXT, required=True)
        if name is not None:
            fields["name"], fields["name_key"] = name, name_key(name)
    grant = checked_grant(
        check, data.resource_access, data.resources, creating=creating, stored_selection=stored_selection
    )
    return CheckedRole(fields, grant, check.problems)


# --------------------------------------------------------------------------------------- users


@dataclasses.dataclass
class UserInput:
    """What user create and update accept; ``UNSET`` (or None) means "not given": an update keeps it."""

    username: Any = UNSET
    email: Any = UNSET
    first_name: Any = UNSET
    last_name: Any = UNSET
    password: Any = UNSET
    #: The role's global id.
    role_id: Any = UNSET
    is_active: Any = UNSET


@dataclasses.dataclass
class CheckedUser:
    #: ``admin_user`` columns to write, but the password (hashed later) and the role (checked later).
    fields: dict[str, Any]
    #: The new password as given, to hash once everything else is accepted.
    password: str | None
    #: The role's database id, when one is given.
    role_id: int | None
    problems: list[Problem]


def check_user(data: UserInput, *, creating: bool) -> CheckedUser:
    """Check every given field (all but ``is_active`` are required when creating, as in Magento's form)."""
    check = InputChecker(("input",))
    fields: dict[str, Any] = {}
    for field in ("username", "first_name", "last_name"):
        value = getattr(data, field)
        if creating or _given(value):
            text = check.text(field, value if _given(value) else None, max_length=MAX_TEXT, required=True)
            if text is not None:
                fields[field] = text
    if creating or _given(data.email):
        email = check.text("email", data.email if _given(data.email) else None, max_length=MAX_TEXT, required=True)
        if email is not None and check.email("email", email) is not None:
            fields["email"] = email
    if _given(data.is_active):
        fields["is_active"] = bool(data.is_active)
    elif creating:
        fields["is_active"] = True
    password = data.password if _given(data.password) else None
    if password is None and creating:
        check.add("password", "Password is required.", UserErrorCode.REQUIRED)
    for message in password_rule_problems(password) if password is not None else ():
        check.add("password", message, UserErrorCode.INVALID)
    role_id = None
    if _given(data.role_id):
        role_id = parse_global_id(str(data.role_id), ROLE_NODE)
        if role_id is None:
            check.add("role_id", not_found_message("role", str(data.role_id)), UserErrorCode.NOT_FOUND)
    elif creating:
        check.add("role_id", "Choose the user's role.", UserErrorCode.REQUIRED)
    return CheckedUser(fields, password, role_id, check.problems)
