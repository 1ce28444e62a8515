"""System > Extensions > Integrations: types, inputs, queries and mutations."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from strawberry import relay

from models import Integration as IntegrationRow
from models.integration import SETUP_CONFIG, STATUS_ACTIVE, STATUS_INACTIVE, STATUS_RESET
from models.values import as_bool, as_datetime
from resolvers.integrations import activation, activity, loaders, rotation, service, trim, validation
from resolvers.integrations.grants import held_resources
from resolvers.loaders import forget_loaders
from resolvers.problems import Outcome
from resolvers.validation import RESOURCE_ACCESS_ALL, RESOURCE_ACCESS_CUSTOM
from schema.core import UserError, user_errors
from schema.directives import Resource, admin_only
from schema.pagination import Connection, SortDirection, connection


@strawberry.enum(
    description="Inactive: never activated. Active: may call the API. Reset: re-created from its config file."
)
class IntegrationStatus(enum.Enum):
    INACTIVE = STATUS_INACTIVE
    ACTIVE = STATUS_ACTIVE
    RESET = STATUS_RESET


@strawberry.enum(description="Created in the admin (MANUAL) or declared in the integrations file (CONFIG).")
class IntegrationSetupType(enum.Enum):
    MANUAL = "MANUAL"
    CONFIG = "CONFIG"


@strawberry.enum(description="All resources, or a Custom selection from the resource tree.")
class ResourceAccess(enum.Enum):
    ALL = RESOURCE_ACCESS_ALL
    CUSTOM = RESOURCE_ACCESS_CUSTOM


@strawberry.enum(
    description="How an integration's client authenticates: Magento's OAuth 1.0a (token exchange and signed "
    "calls), and/or OAuth 2.0 client credentials (bearer tokens from `POST /oauth2/token`, client id = consumer "
    "key, client secret = consumer secret)."
)
class IntegrationAuthMethod(enum.Enum):
    OAUTH1 = validation.AUTH_OAUTH1
    OAUTH2_CLIENT_CREDENTIALS = validation.AUTH_OAUTH2


@strawberry.enum(description="The integrations grid's sortable columns.")
class IntegrationSortField(enum.Enum):
    ID = "ID"
    NAME = "NAME"
    EMAIL = "EMAIL"
    STATUS = "STATUS"


@strawberry.input(description="The order of the integrations list; the id breaks ties.")
class IntegrationSort:
    field: IntegrationSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.type(description="OAuth credentials. The access token fields are null until the integration is active.")
class IntegrationCredentials:
    consumer_key: str
    consumer_secret: str
    access_token: str | None
    access_token_secret: str | None

    @classmethod
    def of(cls, credentials: loaders.CredentialsView | None) -> IntegrationCredentials | None:
        if credentials is None:
            return None
        return cls(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
        )


RATE_LIMIT_BUCKET_SIZE = (
    "This integration's own throttling bucket (points); null: the store's `config.rateLimits.integrationBucketSize`."
)
RATE_LIMIT_RESTORE_RATE = (
    "Points per second this integration's bucket gets back; null: the store's "
    "`config.rateLimits.integrationRestoreRate`."
)
RATE_LIMIT_INPUT = " Null or 0 puts it back to the store's setting."


@strawberry.type(description="One ACL resource's calls by an integration over the days of activity kept.")
class ResourceActivity:
    resource: str = strawberry.field(description="The ACL resource id.")
    calls: int = strawberry.field(description="Calls that needed the resource and were allowed.")
    denied: int = strawberry.field(description="Calls that needed the resource and were denied (it was not held).")
    last_used_at: dt.datetime | None = strawberry.field(description="The latest call, allowed or denied.")


@strawberry.type(description="One UTC day of an integration's calls (its GraphQL requests).")
class DailyActivity:
    date: dt.date
    calls: int = strawberry.field(description="Requests allowed.")
    denied: int = strawberry.field(description="Requests with a field denied.")


ACTIVITY_DAYS = (
    "The last `days` UTC days, today included, oldest first, every day listed (zero when nothing was counted); "
    "from 1 to `config.oauth.activityRetentionDays`, else a BAD_USER_INPUT error."
)


@strawberry.type(
    description="What an integration did, as each server process counts it (written every few seconds, so the "
    "latest seconds may be missing). A call is one GraphQL request: per resource, one request that needed the "
    "resource. Totals cover the days kept (`config.oauth.activityRetentionDays`); counts above 2147483647 show "
    "as 2147483647."
)
class IntegrationActivity:
    integration_id: strawberry.Private[int]

    @strawberry.field(description="The latest request (allowed or denied), however long ago; null if none.")
    async def last_used_at(self, info: strawberry.Info) -> dt.datetime | None:
        return (await activity.last_use(info.context, self.integration_id)).at

    @strawberry.field(
        description="The client address of that request (as a trusted proxy names it in X-Forwarded-For)."
    )
    async def last_used_from(self, info: strawberry.Info) -> str | None:
        return (await activity.last_use(info.context, self.integration_id)).client

    @strawberry.field(description="Requests allowed over the days kept.")
    async def calls(self, info: strawberry.Info) -> int:
        return (await activity.totals(info.context, self.integration_id)).calls

    @strawberry.field(description="Requests with a field denied over the days kept.")
    async def denied(self, info: strawberry.Info) -> int:
        return (await activity.totals(info.context, self.integration_id)).denied

    @strawberry.field(description="Per ACL resource the requests needed, over the days kept, by resource id.")
    async def by_resource(self, info: strawberry.Info) -> list[ResourceActivity]:
        return [
            ResourceActivity(resource=u.resource, calls=u.calls, denied=u.denied, last_used_at=u.last_used_at)
            for u in await activity.by_resource(info.context, self.integration_id)
        ]

    @strawberry.field(description=ACTIVITY_DAYS)
    async def daily(self, info: strawberry.Info, days: int = 30) -> list[DailyActivity] | None:
        return [
            DailyActivity(date=d.date, calls=d.calls, denied=d.denied)
            for d in await activity.daily(info.context, self.integration_id, days)
        ]


UNUSED_RESOURCES = (
    "Granted resources at leaf level of the resource tree (every leaf for All) with no allowed call in the last "
    "`days` UTC days, today included, in tree order; a leaf counts as used when a call used it or a resource "
    "above it. `days` from 1 to `config.oauth.activityRetentionDays`, else a BAD_USER_INPUT error. What "
    "`trimIntegrationGrant` would take away."
)


@strawberry.type(description="A third-party integration and the API resources it may use.")
class Integration(relay.Node):
    id: relay.NodeID[int]
    name: str
    email: str | None = strawberry.field(description="Contact email; null when not given.")
    callback_url: str | None = strawberry.field(
        description="Where OAuth credentials are POSTed when using OAuth for token exchange."
    )
    identity_link_url: str | None = strawberry.field(
        description="Where the admin is sent to link their third-party account with these credentials."
    )
    status: IntegrationStatus
    setup_type: IntegrationSetupType
    rate_limit_bucket_size: int | None = strawberry.field(description=RATE_LIMIT_BUCKET_SIZE)
    rate_limit_restore_rate: int | None = strawberry.field(description=RATE_LIMIT_RESTORE_RATE)
    created_at: dt.datetime
    updated_at: dt.datetime
    name_key: strawberry.Private[str | None]
    auth_methods: list[IntegrationAuthMethod] = strawberry.field(
        description="The authentication methods its client may use (default OAUTH1)."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Integration:
        """From a row as the list reads it (``service.COLUMNS``)."""
        return cls(
            id=row["id"],
            name=row["name"],
            email=row["email"] or None,
            callback_url=row["endpoint"],
            identity_link_url=row["identity_link_url"],
            status=IntegrationStatus(row["status"]),
            setup_type=(
                IntegrationSetupType.CONFIG if row["setup_type"] == SETUP_CONFIG else IntegrationSetupType.MANUAL
            ),
            rate_limit_bucket_size=row["rate_limit_bucket_size"],
            rate_limit_restore_rate=row["rate_limit_restore_rate"],
            created_at=as_datetime(row["created_at"]),
            updated_at=as_datetime(row["updated_at"]),
            name_key=row["name_key"],
            auth_methods=[
                IntegrationAuthMethod(m)
                for m in validation.auth_methods_of(as_bool(row["allow_oauth1"]), as_bool(row["allow_oauth2"]))
            ],
        )

    @classmethod
    def maybe(cls, row: IntegrationRow | None) -> Integration | None:
        return cls.from_row(service.as_row(row)) if row is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Integration | None]:
        ids = [int(i) for i in node_ids]
        rows = {r.id: r for r in await IntegrationRow.filter(id__in=ids)}
        return [cls.maybe(rows.get(i)) for i in ids]

    @strawberry.field(description="Both URLs set: activation runs the OAuth 1.0a token exchange.")
    def is_token_exchange(self) -> bool:
        return service.is_token_exchange(self.callback_url, self.identity_link_url)

    @strawberry.field(description="False when the callback or identity link URL is plain http:.")
    def is_secure(self) -> bool:
        return service.is_secure(self.callback_url, self.identity_link_url)

    @strawberry.field(
        description="For CONFIG integrations: whether the integrations file still declares it. One removed from "
        "the file is kept (read-only) until an admin deletes it."
    )
    async def declared_in_file(self, info: strawberry.Info) -> bool:
        if self.setup_type is not IntegrationSetupType.CONFIG or self.name_key is None:
            return False
        return await loaders.is_declared(info.context, self.name_key)

    @strawberry.field
    async def resource_access(self, info: strawberry.Info) -> ResourceAccess:
        grant = await loaders.load_grant(info.context, self.id)
        return ResourceAccess.ALL if grant is not None and grant.all_resources else ResourceAccess.CUSTOM

    @strawberry.field(
        description="Resources held, as stored when the grant was saved: `Magento_Backend::all` for All, "
        "else the chosen nodes with their whole subtrees."
    )
    async def resources(self, info: strawberry.Info) -> list[str]:
        return held_resources(await loaders.load_grant(info.context, self.id))

    @strawberry.field(description="Ancestors of chosen nodes, shown partially checked; they grant nothing.")
    async def partial_resources(self, info: strawberry.Info) -> list[str]:
        grant = await loaders.load_grant(info.context, self.id)
        return list(grant.partial_resources) if grant is not None else []

    @strawberry.field(description="The nodes ticked in the Custom tree (empty for All).")
    async def selected_resources(self, info: strawberry.Info) -> list[str]:
        grant = await loaders.load_grant(info.context, self.id)
        return list(grant.selected) if grant is not None and not grant.all_resources else []

    @strawberry.field(
        description="When the consumer secret was last rotated (`rotateIntegrationSecret`); null if never."
    )
    async def secret_rotated_at(self, info: strawberry.Info) -> dt.datetime | None:
        consumer = await loaders.load_consumer(info.context, self.id)
        return as_datetime(consumer.secret_rotated_at) if consumer and consumer.secret_rotated_at else None

    @strawberry.field(
        description="Until when the secret replaced by the last rotation still works (OAuth 1.0a signatures and "
        "OAuth 2.0 client authentication); null when that rotation had no overlap, or there was none."
    )
    async def previous_secret_expires_at(self, info: strawberry.Info) -> dt.datetime | None:
        consumer = await loaders.load_consumer(info.context, self.id)
        expires = consumer.previous_secret_expires_at if consumer else None
        return as_datetime(expires) if expires else None

    @strawberry.field(
        extensions=[admin_only()],
        description="Only admins see credentials; each time they are shown is an `integration.credentials_shown` "
        "audit event.",
    )
    async def credentials(self, info: strawberry.Info) -> IntegrationCredentials | None:
        return IntegrationCredentials.of(await loaders.show_credentials(info.context, self.id, self.name))

    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="What it did: last use, calls and denials per resource and per day.",
    )
    def activity(self) -> IntegrationActivity | None:
        return IntegrationActivity(integration_id=self.id)

    @strawberry.field(extensions=[admin_only(Resource.INTEGRATIONS)], description=UNUSED_RESOURCES)
    async def unused_resources(self, info: strawberry.Info, days: int = 90) -> list[str] | None:
        return await trim.unused_resources(info.context, self.id, days)


#: Magento's "Current User Identity Verification" on every integration write.
YOUR_PASSWORD = (
    "Your Password: the calling admin's own password, asked again on every integration write. Missing: "
    "REQUIRED. Wrong: INVALID_PASSWORD, nothing is written, and it counts toward the admin's lock-out "
    "(`config.oauth.maxFailuresCount`), which also revokes every token of the admin."
)


def your_password() -> Any:
    return strawberry.field(default=strawberry.UNSET, description=YOUR_PASSWORD)


def rate_limit_input(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description + RATE_LIMIT_INPUT)


@strawberry.input
class CreateIntegrationInput:
    name: str
    email: str | None = strawberry.UNSET
    callback_url: str | None = strawberry.UNSET
    identity_link_url: str | None = strawberry.UNSET
    resource_access: ResourceAccess | None = strawberry.field(
        default=strawberry.UNSET, description="Default CUSTOM (with `resources`, else nothing)."
    )
    resources: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="For CUSTOM: resource ids as ticked; each brings its subtree, ancestors become partial.",
    )
    auth_methods: list[IntegrationAuthMethod] | None = strawberry.field(
        default=strawberry.UNSET,
        description="OAUTH1 (the default), OAUTH2_CLIENT_CREDENTIALS, or both; an empty list is refused (REQUIRED).",
    )
    rate_limit_bucket_size: int | None = rate_limit_input(RATE_LIMIT_BUCKET_SIZE)
    rate_limit_restore_rate: int | None = rate_limit_input(RATE_LIMIT_RESTORE_RATE)
    current_password: str | None = your_password()


@strawberry.input(description="Fields left out keep their values; resources are re-saved only when given.")
class UpdateIntegrationInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    callback_url: str | None = strawberry.UNSET
    identity_link_url: str | None = strawberry.UNSET
    resource_access: ResourceAccess | None = strawberry.UNSET
    resources: list[str] | None = strawberry.UNSET
    auth_methods: list[IntegrationAuthMethod] | None = strawberry.field(
        default=strawberry.UNSET,
        description="OAUTH1 (the default), OAUTH2_CLIENT_CREDENTIALS, or both; an empty list is refused (REQUIRED).",
    )
    rate_limit_bucket_size: int | None = rate_limit_input(RATE_LIMIT_BUCKET_SIZE)
    rate_limit_restore_rate: int | None = rate_limit_input(RATE_LIMIT_RESTORE_RATE)
    current_password: str | None = your_password()


def _service_input(data: CreateIntegrationInput | UpdateIntegrationInput) -> validation.IntegrationInput:
    access: Any = data.resource_access
    if isinstance(access, ResourceAccess):
        access = access.value
    return validation.IntegrationInput(
        name=data.name,
        email=data.email,
        callback_url=data.callback_url,
        identity_link_url=data.identity_link_url,
        resource_access=access,
        resources=data.resources,
        auth_methods=(
            [m.value for m in data.auth_methods] if isinstance(data.auth_methods, list) else data.auth_methods
        ),
        rate_limit_bucket_size=data.rate_limit_bucket_size,
        rate_limit_restore_rate=data.rate_limit_restore_rate,
    )


@strawberry.type
class IntegrationPayload:
    integration: Integration | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[IntegrationRow]) -> IntegrationPayload:
        return cls(integration=Integration.maybe(outcome.value), user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteIntegrationPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class AuthorizeIntegrationPayload:
    integration: Integration | None
    credentials: IntegrationCredentials | None = strawberry.field(
        description="For manual integrations: the credentials to give the third party."
    )
    identity_link_url: str | None = strawberry.field(
        description="For token exchange: the identity link the admin's browser opens."
    )
    success_callback_url: str | None = strawberry.field(
        description="For token exchange: where the identity link page sends the admin back."
    )
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[activation.Activation]) -> AuthorizeIntegrationPayload:
        done = outcome.value or activation.Activation()
        return cls(
            integration=Integration.maybe(done.integration),
            credentials=IntegrationCredentials.of(done.credentials),
            identity_link_url=done.identity_link_url,
            success_callback_url=done.success_callback_url,
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type
class RotateIntegrationSecretPayload:
    integration: Integration | None
    credentials: IntegrationCredentials | None = strawberry.field(
        description="The consumer key and the new consumer secret (shown here once; the OAuth 1.0a access token "
        "is unchanged)."
    )
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[rotation.Rotation]) -> RotateIntegrationSecretPayload:
        done = outcome.value or rotation.Rotation()
        return cls(
            integration=Integration.maybe(done.integration),
            credentials=IntegrationCredentials.of(done.credentials),
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type
class TrimIntegrationGrantPayload:
    integration: Integration | None
    removed_resources: list[str] = strawberry.field(
        description="What the stored grant held and no longer does (`Magento_Backend::all` for an All grant, now "
        "Custom); empty when nothing was unused."
    )
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[trim.Trim]) -> TrimIntegrationGrantPayload:
        done = outcome.value or trim.Trim()
        return cls(
            integration=Integration.maybe(done.integration),
            removed_resources=list(done.removed),
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type
class IntegrationQuery:
    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="What went wrong with the integrations file (INTEGRATIONS_FILE) at the last start: skipped "
        "declarations and why. Empty when all went well.",
    )
    async def integrations_file_problems(self) -> list[str] | None:
        return await loaders.file_problems()

    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)], description="An integration by its (global) id, or null."
    )
    async def integration(self, id: strawberry.ID) -> Integration | None:
        return Integration.maybe(await service.get_integration(id))

    @strawberry.field(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Integrations ordered by name (or as `sort` says); `search` matches name or email, `name` and "
        "`email` filter their column (contains, ignoring case), `isSecure: false` keeps those with a plain http: "
        "URL. Each order has its own cursors. Relay pagination: `first` "
        "(default: the server's maximum page size, MAX_PAGE_SIZE, default 100) items after the cursor `after`; "
        "a `first` above that maximum is refused with a BAD_USER_INPUT error, not clamped.",
    )
    async def integrations(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        status: IntegrationStatus | None = None,
        search: str | None = None,
        name: str | None = None,
        email: str | None = None,
        is_secure: bool | None = None,
        sort: IntegrationSort | None = None,
    ) -> Connection[Integration] | None:
        status_value = status.value if status is not None else None
        page = await service.integrations_page(
            info.context,
            status=status_value,
            search=search,
            first=first,
            after=after,
            name=name,
            email=email,
            is_secure=is_secure,
            sort=sort.field.value if sort is not None else IntegrationSortField.NAME.value,
            descending=sort is not None and sort.direction is SortDirection.DESC,
        )
        return connection(page, Integration.from_row)


def _password(value: str | None) -> str | None:
    return value or None


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Register an integration (status INACTIVE) with its OAuth consumer and API grant.",
    )
    async def create_integration(self, info: strawberry.Info, input: CreateIntegrationInput) -> IntegrationPayload:
        outcome = await service.admin_create(info.context, _service_input(input), _password(input.current_password))
        forget_loaders(info.context)
        return IntegrationPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Edit an integration; its status and tokens are untouched.",
    )
    async def update_integration(self, info: strawberry.Info, input: UpdateIntegrationInput) -> IntegrationPayload:
        outcome = await service.admin_update(
            info.context, input.id, _service_input(input), _password(input.current_password)
        )
        forget_loaders(info.context)
        return IntegrationPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Delete an integration; its credentials stop working at once.",
    )
    async def delete_integration(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> DeleteIntegrationPayload:
        outcome = await service.admin_delete(info.context, id, current_password)
        forget_loaders(info.context)
        deleted_id = strawberry.ID(outcome.value) if outcome.value is not None else None
        return DeleteIntegrationPayload(deleted_id=deleted_id, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Activate: manual integrations get their access token here; token-exchange ones start "
        "the OAuth handshake.",
    )
    async def authorize_integration(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> AuthorizeIntegrationPayload:
        return AuthorizeIntegrationPayload.of(
            await activation.authorize_integration(info.context, id, current_password)
        )

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Issue new access credentials; the old access token stops working at once.",
    )
    async def reauthorize_integration(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> AuthorizeIntegrationPayload:
        outcome = await activation.reauthorize_integration(info.context, id, current_password)
        return AuthorizeIntegrationPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Issue a new consumer secret (shown once in the payload). The old one keeps working for OAuth "
        "1.0a signatures and OAuth 2.0 client authentication for `overlapSeconds` (0 to 2592000; 0 ends it at "
        "once), then stops. Access tokens are untouched.",
    )
    async def rotate_integration_secret(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        overlap_seconds: int,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> RotateIntegrationSecretPayload:
        outcome = await rotation.rotate_secret(info.context, id, overlap_seconds, current_password)
        return RotateIntegrationSecretPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Narrow the grant to the resources used in the last `days` days (as `unusedResources` reports "
        "them): as if exactly those were ticked, each with its subtree, never adding one; an All grant becomes "
        "Custom. Refused for config-file integrations (READ_ONLY), for `days` outside 1 to "
        "`config.oauth.activityRetentionDays` (OUT_OF_RANGE), when nothing granted was used (NOTHING_USED), and "
        "when the grant changed meanwhile (IN_PROGRESS).",
    )
    async def trim_integration_grant(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        days: int = 90,
        current_password: Annotated[str | None, strawberry.argument(description=YOUR_PASSWORD)] = None,
    ) -> TrimIntegrationGrantPayload:
        return TrimIntegrationGrantPayload.of(await trim.trim_grant(info.context, id, days, current_password))
