"""Is this integration input acceptable? What create and update accept, checked field by field.

Every problem is collected at once and nothing is written when there is any. Messages are Magento's
(reference §1.1). Config-file declarations go through the same checks (``config_file``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from strawberry import UNSET

from auth.config import MAX_BUCKET_SIZE, MAX_RESTORE_RATE
from auth.grants import GrantSpec
from models.names import name_key
from resolvers.problems import Problem, UserErrorCode
from resolvers.validation import InputChecker, checked_grant

MAX_NAME = 255

REQUIRED_MESSAGE = "This is a required field."


@dataclasses.dataclass
class IntegrationInput:
    """What create and update accept; ``UNSET`` means "not given" (update keeps the stored value)."""

    name: Any = UNSET
    email: Any = UNSET
    callback_url: Any = UNSET
    identity_link_url: Any = UNSET
    #: ``"ALL"`` or ``"CUSTOM"``.
    resource_access: Any = UNSET
    resources: Any = UNSET
    #: ``"OAUTH1"`` and/or ``"OAUTH2_CLIENT_CREDENTIALS"``; default (create) ``["OAUTH1"]``.
    auth_methods: Any = UNSET
    #: The integration's own throttling bucket and restore rate; None or 0: the store's setting.
    rate_limit_bucket_size: Any = UNSET
    rate_limit_restore_rate: Any = UNSET


AUTH_OAUTH1 = "OAUTH1"
AUTH_OAUTH2 = "OAUTH2_CLIENT_CREDENTIALS"
AUTH_METHODS_REQUIRED = "Choose at least one authentication method."


@dataclasses.dataclass
class ValidatedInput:
    #: Integration columns to write.
    fields: dict[str, Any]
    #: The grant to store, or None to keep the stored one (updates that do not mention resources).
    grant: GrantSpec | None
    problems: list[Problem]


def _given(value: Any) -> bool:
    return value is not UNSET


def _text(value: Any) -> str | None:
    """Strip a text input; empty becomes None."""
    if value is None or value is UNSET:
        return None
    value = str(value).strip()
    return value or None


def validate_input(
    data: IntegrationInput,
    *,
    creating: bool,
    path: tuple[str, ...] = ("input",),
    stored_selection: Sequence[str] = (),
) -> ValidatedInput:
    """Check every given field (all of them when creating); ``fields`` is only usable without problems."""
    check = InputChecker(path)
    fields: dict[str, Any] = {}
    if creating or _given(data.name):
        fields["name"] = name = _name(check, _text(data.name))
        fields["name_key"] = name_key(name) if name is not None else None
    if creating or _given(data.email):
        fields["email"] = check.email("email", _text(data.email)) or ""
    if creating or _given(data.callback_url):
        fields["endpoint"] = check.url("callback_url", _text(data.callback_url))
    if creating or _given(data.identity_link_url):
        fields["identity_link_url"] = check.url("identity_link_url", _text(data.identity_link_url))
    if (creating and data.auth_methods is not None) or (not creating and _given(data.auth_methods)):
        _auth_methods(check, fields, [AUTH_OAUTH1] if data.auth_methods is UNSET else data.auth_methods)
    for name, maximum in (
        ("rate_limit_bucket_size", MAX_BUCKET_SIZE),
        ("rate_limit_restore_rate", MAX_RESTORE_RATE),
    ):
        value = getattr(data, name)
        if _given(value):
            fields[name] = _rate_limit(check, name, value, maximum)
    grant = checked_grant(
        check, data.resource_access, data.resources, creating=creating, stored_selection=stored_selection
    )
    return ValidatedInput(fields, grant, check.problems)


def _auth_methods(check: InputChecker, fields: dict[str, Any], methods: Sequence[str] | None) -> None:
    """An empty list (or null on update) would leave the integration no way to authenticate."""
    chosen = set(methods or ())
    if not chosen:
        check.add("auth_methods", AUTH_METHODS_REQUIRED, UserErrorCode.REQUIRED)
        return
    fields["allow_oauth1"] = AUTH_OAUTH1 in chosen
    fields["allow_oauth2"] = AUTH_OAUTH2 in chosen


def auth_methods_of(allow_oauth1: bool, allow_oauth2: bool) -> list[str]:
    """The stored flags as the API lists them."""
    return [m for m, on in ((AUTH_OAUTH1, allow_oauth1), (AUTH_OAUTH2, allow_oauth2)) if on]


def _rate_limit(check: InputChecker, field: str, value: int | None, maximum: int) -> int | None:
    """An integration's own rate limit: a whole number from 1 to ``maximum``; None or 0 is the store's setting."""
    if not value:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        check.add(
            field, f"Enter a number from 1 to {maximum}, or 0 to use the store's setting.", UserErrorCode.OUT_OF_RANGE
        )
        return None
    return value


def _name(check: InputChecker, name: str | None) -> str | None:
    if name is None:
        check.add("name", REQUIRED_MESSAGE, UserErrorCode.REQUIRED)
    elif len(name) > MAX_NAME:
        check.add("name", f"The name must not be longer than {MAX_NAME} characters.", UserErrorCode.INVALID)
    return name
