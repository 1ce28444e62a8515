"""Integrations declared in a TOML file, Magento's ``etc/integration.xml`` (reference §7).

At start-up (``sync_config_integrations`` in ``main.STARTUP_TASKS``) the file named by
``settings.resolved_integrations_file`` is read. Each declared integration is created with setup type
CONFIG; when its declaration changes it is deleted and re-created with status RESET and new
credentials (it must be reauthorized); when it is removed from the file it is deleted ("uninstalled").
Admins cannot edit or delete these integrations (``updateIntegration``/``deleteIntegration`` refuse).
A missing file changes nothing. A file that cannot be read or parsed is logged and changes nothing; a
bad entry is logged and skipped (an integration it declared before is kept as it is).
The format is documented in ``docs/config-file-integrations.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tomllib
from pathlib import Path
from typing import Any

from errors import Refusal
from models import Integration as IntegrationRow
from models.integration import SETUP_CONFIG, STATUS_INACTIVE, STATUS_RESET
from resolvers.integrations.service import create_integration, delete_integration_row
from resolvers.integrations.validation import RESOURCE_ACCESS_CUSTOM, IntegrationInput, validate_input
from settings import Settings

logger = logging.getLogger("integrations.config_file")

TABLE = "integrations"
KEYS = ("name", "email", "callback_url", "identity_link_url", "resources")


class ConfigFileError(Refusal):
    """The file as a whole cannot be used (unreadable, not TOML, wrong shape)."""


@dataclasses.dataclass(frozen=True)
class Declaration:
    name: str
    email: str | None = None
    callback_url: str | None = None
    identity_link_url: str | None = None
    resources: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Changes when anything declared changes (not when the resource tree grows)."""
        canonical = {
            "name": self.name,
            "email": self.email or "",
            "callback_url": self.callback_url or "",
            "identity_link_url": self.identity_link_url or "",
            "resources": sorted(set(self.resources)),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()

    def as_input(self) -> IntegrationInput:
        return IntegrationInput(
            name=self.name,
            email=self.email,
            callback_url=self.callback_url,
            identity_link_url=self.identity_link_url,
            resource_access=RESOURCE_ACCESS_CUSTOM,
            resources=list(self.resources),
        )


@dataclasses.dataclass
class ParsedFile:
    declarations: list[Declaration]
    #: One line per skipped entry or ignored key, for the log.
    problems: list[str]
    #: Names of entries that were skipped: integrations they declared before are kept as they are.
    skipped_names: set[str]


def _entry_label(index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"[[{TABLE}]] entry {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name.strip() else "")


def _declaration(entry: Any) -> tuple[Declaration | None, list[str]]:
    """An entry as a declaration, or why it is unusable."""
    if not isinstance(entry, dict):
        return None, ["is not a table"]
    problems = [f"unknown key {key!r} (allowed: {', '.join(KEYS)})" for key in entry if key not in KEYS]
    for key in ("name", "email", "callback_url", "identity_link_url"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(f"{key} must be a string")
    resources = entry.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        problems.append("resources must be a list of resource ids (strings)")
        resources = []
    if problems:
        return None, problems
    declaration = Declaration(
        name=str(entry.get("name", "")).strip(),
        email=entry.get("email"),
        callback_url=entry.get("callback_url"),
        identity_link_url=entry.get("identity_link_url"),
        resources=tuple(resources),
    )
    checked = validate_input(declaration.as_input(), creating=True, path=())
    if checked.problems:
        return None, [f"{'.'.join(p.field)}: {p.message}" for p in checked.problems]
    return declaration, []


def read_declarations(path: Path) -> ParsedFile:
    """Parse and check the file; raises ``ConfigFileError`` when none of it can be trusted."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(f"not valid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigFileError(f"cannot be read: {error}") from None
    problems = [f"unknown top-level key {key!r} ignored (expected [[{TABLE}]])" for key in data if key != TABLE]
    entries = data.get(TABLE, [])
    if not isinstance(entries, list):
        raise ConfigFileError(f"{TABLE!r} must be an array of tables ([[{TABLE}]])")
    declarations: list[Declaration] = []
    skipped: set[str] = set()
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = _entry_label(index, entry)
        declaration, entry_problems = _declaration(entry)
        if declaration is None:
            problems.append(f"{label} skipped: {'; '.join(entry_problems)}")
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"].strip():
                skipped.add(entry["name"].strip().casefold())
            continue
        if declaration.name.casefold() in seen:
            problems.append(f"{label} skipped: the name {declaration.name!r} is declared more than once")
            continue
        seen.add(declaration.name.casefold())
        declarations.append(declaration)
    return ParsedFile(declarations, problems, skipped)


async def sync_config_integrations(settings: Settings) -> None:
    """Bring config-file integrations in line with the file (a start-up task)."""
    path = settings.resolved_integrations_file
    if not path.exists():
        logger.debug("No integrations file at %s: config-file integrations are left as they are.", path)
        return
    try:
        parsed = read_declarations(path)
    except ConfigFileError as error:
        logger.error("Integrations file %s %s. No config-file integration was changed.", path, error)
        return
    for problem in parsed.problems:
        logger.error("Integrations file %s: %s", path, problem)
    declared: set[str] = set()
    for declaration in parsed.declarations:
        declared.add(declaration.name.casefold())
        await _apply(path, declaration)
    keep = declared | parsed.skipped_names
    for row in await IntegrationRow.filter(setup_type=SETUP_CONFIG):
        if row.name.casefold() not in keep and await delete_integration_row(row.id):
            logger.warning("Integration %r is no longer declared in %s and was removed.", row.name, path)


async def _apply(path: Path, declaration: Declaration) -> None:
    fingerprint = declaration.fingerprint()
    existing = await IntegrationRow.filter(name__iexact=declaration.name).first()
    if existing is not None and existing.setup_type != SETUP_CONFIG:
        logger.error(
            "Integrations file %s: integration %r skipped: an integration with this name was created in the "
            "admin. Rename one of them.",
            path,
            declaration.name,
        )
        return
    if existing is not None and existing.config_hash == fingerprint:
        return
    outcome = await create_integration(
        declaration.as_input(),
        principal=None,
        setup_type=SETUP_CONFIG,
        status=STATUS_INACTIVE if existing is None else STATUS_RESET,
        config_hash=fingerprint,
        path=(),
        replace_id=existing.id if existing is not None else None,
    )
    if outcome.value is None:
        # Another worker applied the same file at the same moment, or the name is taken.
        logger.info(
            "Integrations file %s: integration %r not applied here: %s",
            path,
            declaration.name,
            "; ".join(p.message for p in outcome.problems),
        )
    elif existing is None:
        logger.info("Integration %r created from %s.", declaration.name, path)
    else:
        logger.warning(
            "Integration %r was re-created from its changed declaration in %s: its status is Reset and it "
            "has new credentials. Reauthorize it.",
            declaration.name,
            path,
        )
