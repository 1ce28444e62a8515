"""Integrations declared in a TOML file, Magento's ``etc/integration.xml`` (reference §7).

At start-up (``sync_config_integrations`` in ``main.STARTUP_TASKS``) the file named by
``settings.resolved_integrations_file`` is read. Each declared integration is created with setup type
CONFIG; when its declaration changes it is deleted and re-created with status RESET and new
credentials (it must be reauthorized). Admins cannot edit or delete a declared integration
(``updateIntegration``/``deleteIntegration`` refuse), and the declared names are reserved: an integration
created in the admin may not take one. An integration removed from the file is kept (a typo must not
delete a live integration), shown as no longer declared, until an admin deletes it.

What the file declared, and every problem found in it, is remembered (``IntegrationDeclaration``) so that
admins see the problems in the console, not only in the log: a missing file declares nothing; a file that
cannot be read or parsed changes nothing but its problem; a bad entry is skipped (an integration it
declared before is kept as it is), and so is a declaration whose name an admin-made integration took.
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

from tortoise.transactions import in_transaction

from errors import Refusal
from models import Integration as IntegrationRow
from models import IntegrationDeclaration
from models.integration import SETUP_CONFIG, STATUS_INACTIVE, STATUS_RESET
from models.names import name_key
from resolvers.integrations.service import create_integration
from resolvers.integrations.validation import IntegrationInput, validate_input
from resolvers.validation import RESOURCE_ACCESS_CUSTOM
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
                skipped.add(entry["name"].strip())
            continue
        if name_key(declaration.name) in seen:
            problems.append(f"{label} skipped: the name {declaration.name!r} is declared more than once")
            continue
        seen.add(name_key(declaration.name))
        declarations.append(declaration)
    return ParsedFile(declarations, problems, skipped)


async def sync_config_integrations(settings: Settings) -> None:
    """Bring config-file integrations in line with the file (a start-up task)."""
    path = settings.resolved_integrations_file
    if not path.exists():
        logger.debug("No integrations file at %s: config-file integrations are left as they are.", path)
        await _remember(declared={}, problems=[])
        return
    try:
        parsed = read_declarations(path)
    except ConfigFileError as error:
        logger.error("Integrations file %s %s. No config-file integration was changed.", path, error)
        await _remember_file_problem(f"The integrations file {path} {error}. No integration was changed.")
        return
    problems = [f"The integrations file {path}: {problem}" for problem in parsed.problems]
    for problem in problems:
        logger.error("%s", problem)
    declared = {name_key(name): name for name in parsed.skipped_names}
    for declaration in parsed.declarations:
        declared[name_key(declaration.name)] = declaration.name
        clash = await _apply(path, declaration)
        if clash:
            problems.append(clash)
    await _remember(declared, problems)
    for row in await IntegrationRow.filter(setup_type=SETUP_CONFIG):
        if row.name_key not in declared:
            logger.warning(
                "Integration %r is no longer declared in %s; it is kept until an admin deletes it.", row.name, path
            )


async def _remember(declared: dict[str, str], problems: list[str]) -> None:
    """Replace what the file declared (names by key) and its problems, in one transaction."""
    async with in_transaction() as conn:
        await IntegrationDeclaration.all().using_db(conn).delete()
        for key, name in declared.items():
            await IntegrationDeclaration.create(using_db=conn, name_key=key, name=name)
        for problem in problems:
            await IntegrationDeclaration.create(using_db=conn, problem=problem)


async def _remember_file_problem(problem: str) -> None:
    """The file could not be used: its declarations stay reserved as they were; its problem replaces the old."""
    async with in_transaction() as conn:
        await IntegrationDeclaration.filter(name_key=None).using_db(conn).delete()
        await IntegrationDeclaration.create(using_db=conn, problem=problem)


async def _apply(path: Path, declaration: Declaration) -> str | None:
    """Create or re-create the declared integration; the problem for the admin when it cannot be."""
    fingerprint = declaration.fingerprint()
    existing = await IntegrationRow.filter(name_key=name_key(declaration.name)).first()
    if existing is not None and existing.setup_type != SETUP_CONFIG:
        problem = (
            f"The integrations file {path} declares {declaration.name!r}, but an integration with this name was "
            f"created in the admin ({existing.name!r}); the declaration is not applied. Rename one of them."
        )
        logger.error("%s", problem)
        return problem
    if existing is not None and existing.config_hash == fingerprint:
        return None
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
    return None
