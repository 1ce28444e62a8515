"""How is an integration's consumer secret replaced without downtime? ``rotateIntegrationSecret``.

A new secret is generated and shown once; the old one keeps working for OAuth 1.0a signatures and OAuth 2.0
client authentication for ``overlapSeconds`` (``auth.oauth.credentials.overlap_secret``), so the third party
can deploy the new one before the old one stops. Zero ends the old secret at once. Rotating again during an
overlap ends the older secret: only the one just replaced stays valid. The consumer key, access tokens and
OAuth 2.0 tokens are untouched. The previous secret is stored encrypted like the current one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from audit import Action, Target, record
from auth import secret_box
from auth.clock import clock
from models import Integration as IntegrationRow
from models import OAuthConsumer
from resolvers.integrations import events
from resolvers.integrations.grants import check_manage_permission
from resolvers.integrations.loaders import CredentialsView
from resolvers.integrations.service import find_for_mutation
from resolvers.loaders import forget_loaders
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

logger = logging.getLogger("integrations.rotation")

#: The longest overlap an admin may choose: 30 days.
MAX_OVERLAP_SECONDS = 30 * 86_400
OVERLAP_OUT_OF_RANGE = f"The overlap must be between 0 and {MAX_OVERLAP_SECONDS} seconds (30 days)."
ROTATED_MEANWHILE = "The secret was rotated by another request meanwhile. Please reload the integration."


@dataclasses.dataclass(frozen=True)
class Rotation:
    integration: IntegrationRow | None = None
    #: The new secret with the consumer key (and the OAuth 1.0a access token, unchanged).
    credentials: CredentialsView | None = None


async def rotate_secret(
    context: Context, value: str, overlap_seconds: int, current_password: str | None
) -> Outcome[Rotation]:
    """Your Password first, then the rotation (a compare-and-set on the stored secret)."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await find_for_mutation(value, ("id",))
    row = found.value
    if row is None:
        return Outcome(problems=found.problems)
    problems = await check_manage_permission(context.principal, row, ("id",))
    if not problems and not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        problems = [Problem(("overlap_seconds",), OVERLAP_OUT_OF_RANGE, UserErrorCode.OUT_OF_RANGE)]
    consumer = await OAuthConsumer.get_or_none(integration_id=row.id)
    if problems or consumer is None:
        return Outcome(Rotation(row), problems or [Problem(("id",), ROTATED_MEANWHILE, UserErrorCode.IN_PROGRESS)])
    now = clock.now()
    secret = secret_box.generate_token()
    expires = now + dt.timedelta(seconds=overlap_seconds) if overlap_seconds else None
    async with in_transaction():
        rotated = await OAuthConsumer.filter(id=consumer.id, secret=consumer.secret).update(
            secret=secret_box.encrypt(secret),
            previous_secret=consumer.secret if overlap_seconds else None,
            previous_secret_expires_at=expires,
            secret_rotated_at=now,
        )
        if rotated:
            details = {
                "name": row.name,
                "overlapSeconds": overlap_seconds,
                "previousSecretExpiresAt": expires.isoformat() if expires else None,
            }
            await record(
                Action.INTEGRATION_SECRET_ROTATED, target_type=Target.INTEGRATION, target_id=row.id, details=details
            )
            await events.credentials_shown(row.id, row.name, events.CLIENT_CREDENTIALS, "rotateIntegrationSecret")
    forget_loaders(context)
    if not rotated:
        return Outcome(Rotation(row), [Problem(("id",), ROTATED_MEANWHILE, UserErrorCode.IN_PROGRESS)])
    logger.info("The secret of integration %s was rotated with an overlap of %s s", row.id, overlap_seconds)
    return Outcome(Rotation(row, CredentialsView(consumer_key=consumer.key, consumer_secret=secret)))
