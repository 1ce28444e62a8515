"""Stores > Configuration: Services (Magento Web API security, OAuth), Advanced > Admin > Security and Advanced >
System > Action Logs Archiving."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from auth.config import BY_NAME, SETTINGS, SYSTEM_VALUES, ConfigSnapshot, stored_paths
from resolvers import config as resolve
from schema.core import UserError, user_errors
from schema.directives import Resource, admin_only, public


def setting_field(name: str) -> Any:
    """A field of a store setting, described as the setting's row in ``auth.config.SETTINGS`` says."""
    return strawberry.field(description=BY_NAME[name].description)


def section_values(config: ConfigSnapshot, section: str) -> dict[str, Any]:
    """The GraphQL fields of one config section (``webapi``, ``oauth``, ``admin``), by name, from a snapshot."""
    return {s.name: getattr(config, s.attribute) for s in SETTINGS if s.section == section}


#: A setting's GraphQL field name -> its name in ``auth.config.SETTINGS``.
SETTING_BY_FIELD = {to_camel_case(s.name): s.name for s in SETTINGS}

USES_SYSTEM_VALUE = (
    'The fields of this section that use their system value (Magento\'s "Use system value": nothing stored, '
    "the default applies)."
)
SYSTEM_VALUE = "Every field of this section at its system value (the default)."
USE_SYSTEM_VALUE = (
    'Fields (by their GraphQL names) to put back to their system value ("Use system value"): their stored '
    "values are removed and the defaults apply. A field cannot also be given a value."
)


async def system_value_fields(section: str) -> list[str]:
    """The GraphQL names of the section's settings that have no stored value."""
    stored = await stored_paths()
    return [to_camel_case(s.name) for s in SETTINGS if s.section == section and s.path not in stored]


@strawberry.type(description="Services > Magento Web API > Web API Security.")
class WebApiSecurityConfig:
    allow_anonymous_guest_access: bool = setting_field("allow_anonymous_guest_access")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> WebApiSecurityConfig:
        return cls(**section_values(config, "webapi"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("webapi")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> WebApiSecurityConfig:
        return WebApiSecurityConfig.from_config(SYSTEM_VALUES)


@strawberry.type(description="Services > OAuth.")
class OAuthConfig:
    consumer_expiration_period: int = setting_field("consumer_expiration_period")
    consumer_post_max_redirects: int = setting_field("consumer_post_max_redirects")
    consumer_post_timeout: int = setting_field("consumer_post_timeout")
    enable_integration_as_bearer: bool = setting_field("enable_integration_as_bearer")
    allow_hmac_sha1: bool = setting_field("allow_hmac_sha1")
    private_callback_allow_list: list[str] = setting_field("private_callback_allow_list")
    admin_token_lifetime: int = setting_field("admin_token_lifetime")
    max_failures_count: int = setting_field("max_failures_count")
    lockout_time: int = setting_field("lockout_time")
    cleanup_probability: int = setting_field("cleanup_probability")
    cleanup_expiration_period: int = setting_field("cleanup_expiration_period")
    activity_retention_days: int = setting_field("activity_retention_days")
    oauth2_access_token_lifetime: int = setting_field("oauth2_access_token_lifetime")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> OAuthConfig:
        return cls(**section_values(config, "oauth"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("oauth")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> OAuthConfig:
        return OAuthConfig.from_config(SYSTEM_VALUES)


@strawberry.type(description="Advanced > Admin > Security.")
class AdminSecurityConfig:
    require_admin_totp: bool = setting_field("require_admin_totp")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> AdminSecurityConfig:
        return cls(**section_values(config, "admin"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("admin")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> AdminSecurityConfig:
        return AdminSecurityConfig.from_config(SYSTEM_VALUES)


@strawberry.type(
    description="Services > Magento Web API > GraphQL Query Cost and Throttling: the calculated cost limit and the "
    "leaky buckets (points, and points restored per second) of integrations, admins and guests."
)
class RateLimitConfig:
    throttling_enabled: bool = setting_field("throttling_enabled")
    max_query_cost: int = setting_field("max_query_cost")
    integration_bucket_size: int = setting_field("integration_bucket_size")
    integration_restore_rate: int = setting_field("integration_restore_rate")
    admin_bucket_size: int = setting_field("admin_bucket_size")
    admin_restore_rate: int = setting_field("admin_restore_rate")
    guest_bucket_size: int = setting_field("guest_bucket_size")
    guest_restore_rate: int = setting_field("guest_restore_rate")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> RateLimitConfig:
        return cls(**section_values(config, "graphql"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("graphql")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> RateLimitConfig:
        return RateLimitConfig.from_config(SYSTEM_VALUES)


@strawberry.type(description="Advanced > System > Action Logs Archiving: how long the audit trail keeps events.")
class ActionLogConfig:
    log_entry_lifetime: int = setting_field("log_entry_lifetime")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> ActionLogConfig:
        return cls(**section_values(config, "system"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("system")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> ActionLogConfig:
        return ActionLogConfig.from_config(SYSTEM_VALUES)


@strawberry.type(
    description="Webhooks: how long a delivery may take, when a failing subscription is disabled, and "
    "how long the delivery log is kept."
)
class WebhookConfig:
    delivery_timeout: int = setting_field("delivery_timeout")
    disable_after_failures: int = setting_field("disable_after_failures")
    delivery_retention_days: int = setting_field("delivery_retention_days")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> WebhookConfig:
        return cls(**section_values(config, "webhooks"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("webhooks")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> WebhookConfig:
        return WebhookConfig.from_config(SYSTEM_VALUES)


@strawberry.type(
    description="Advanced > System > Full Page Cache, for GraphQL GET answers: how long browsers, proxies and CDNs "
    "may keep an answer that every guest would get alike (see docs/caching.md)."
)
class CachingConfig:
    public_max_age: int = setting_field("public_max_age")
    stale_while_revalidate: int = setting_field("stale_while_revalidate")

    @classmethod
    def from_config(cls, config: ConfigSnapshot) -> CachingConfig:
        return cls(**section_values(config, "caching"))

    @strawberry.field(description=USES_SYSTEM_VALUE)
    async def uses_system_value(self) -> list[str]:
        return await system_value_fields("caching")

    @strawberry.field(description=SYSTEM_VALUE)
    def system_value(self) -> CachingConfig:
        return CachingConfig.from_config(SYSTEM_VALUES)


@strawberry.type(description="Store configuration; each section carries its own access rule.")
class Config:
    @strawberry.field(extensions=[admin_only(Resource.CONFIG_WEBAPI)])
    async def web_api_security(self, info: strawberry.Info) -> WebApiSecurityConfig | None:
        return WebApiSecurityConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.CONFIG_OAUTH)])
    async def oauth(self, info: strawberry.Info) -> OAuthConfig | None:
        return OAuthConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.CONFIG_ADMIN)])
    async def admin_security(self, info: strawberry.Info) -> AdminSecurityConfig | None:
        return AdminSecurityConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.CONFIG_WEBAPI)])
    async def rate_limits(self, info: strawberry.Info) -> RateLimitConfig | None:
        return RateLimitConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.CONFIG_SYSTEM)])
    async def action_logs(self, info: strawberry.Info) -> ActionLogConfig | None:
        return ActionLogConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.INTEGRATIONS)])
    async def webhooks(self, info: strawberry.Info) -> WebhookConfig | None:
        return WebhookConfig.from_config(await info.context.config())

    @strawberry.field(extensions=[admin_only(Resource.CONFIG_WEBAPI)])
    async def caching(self, info: strawberry.Info) -> CachingConfig | None:
        return CachingConfig.from_config(await info.context.config())


@strawberry.input
class UpdateOAuthConfigInput:
    consumer_expiration_period: int | None = None
    consumer_post_max_redirects: int | None = None
    consumer_post_timeout: int | None = None
    enable_integration_as_bearer: bool | None = None
    allow_hmac_sha1: bool | None = None
    private_callback_allow_list: list[str] | None = strawberry.field(
        default=None, description="The whole list (replacing the stored one); [] empties it."
    )
    admin_token_lifetime: int | None = None
    max_failures_count: int | None = None
    lockout_time: int | None = None
    cleanup_probability: int | None = None
    cleanup_expiration_period: int | None = None
    activity_retention_days: int | None = None
    oauth2_access_token_lifetime: int | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.input
class UpdateAdminSecurityConfigInput:
    require_admin_totp: bool | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.input
class UpdateRateLimitConfigInput:
    throttling_enabled: bool | None = None
    max_query_cost: int | None = None
    integration_bucket_size: int | None = None
    integration_restore_rate: int | None = None
    admin_bucket_size: int | None = None
    admin_restore_rate: int | None = None
    guest_bucket_size: int | None = None
    guest_restore_rate: int | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.input
class UpdateActionLogConfigInput:
    log_entry_lifetime: int | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.input
class UpdateWebhookConfigInput:
    delivery_timeout: int | None = None
    disable_after_failures: int | None = None
    delivery_retention_days: int | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.input
class UpdateCachingConfigInput:
    public_max_age: int | None = None
    stale_while_revalidate: int | None = None
    use_system_value: list[str] | None = strawberry.field(default=None, description=USE_SYSTEM_VALUE)


@strawberry.type
class UpdateActionLogConfigPayload:
    action_logs: ActionLogConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateWebhookConfigPayload:
    webhooks: WebhookConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateCachingConfigPayload:
    caching: CachingConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateRateLimitConfigPayload:
    rate_limits: RateLimitConfig | None
    user_errors: list[UserError]


@strawberry.type
class SetGuestAccessPayload:
    web_api_security: WebApiSecurityConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateOAuthConfigPayload:
    oauth: OAuthConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateAdminSecurityConfigPayload:
    admin_security: AdminSecurityConfig | None
    user_errors: list[UserError]


@strawberry.type
class ConfigQuery:
    @strawberry.field(extensions=[public()], description="Store configuration sections you may read.")
    def config(self) -> Config:
        return Config()


@strawberry.type
class ConfigMutation:
    @strawberry.mutation(
        extensions=[admin_only(Resource.CONFIG_WEBAPI)],
        description="Switch Allow Anonymous Guest Access (or, with `useSystemValue`, put it back to its default, "
        "ignoring `allow`); every worker sees it on its next request.",
    )
    async def set_guest_access(
        self, info: strawberry.Info, allow: bool, use_system_value: bool = False
    ) -> SetGuestAccessPayload:
        await resolve.set_guest_access(info.context, allow, use_system_value=use_system_value)
        return SetGuestAccessPayload(
            web_api_security=WebApiSecurityConfig.from_config(await info.context.config()), user_errors=[]
        )

    @strawberry.mutation(
        name="updateOAuthConfig",
        extensions=[admin_only(Resource.CONFIG_OAUTH)],
        description="Change OAuth settings; fields left out keep their values. Nothing is saved on errors.",
    )
    async def update_oauth_config(
        self, info: strawberry.Info, input: UpdateOAuthConfigInput
    ) -> UpdateOAuthConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_oauth_config(info.context, changes, resets)
        oauth = None if outcome.problems else OAuthConfig.from_config(await info.context.config())
        return UpdateOAuthConfigPayload(oauth=oauth, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.CONFIG_ADMIN)],
        description="Change admin security settings; fields left out keep their values. Turning "
        "`requireAdminTotp` on needs two-factor sign-in on for your own account first (NOT_ALLOWED otherwise), "
        "so that it cannot lock you out of the setting.",
    )
    async def update_admin_security_config(
        self, info: strawberry.Info, input: UpdateAdminSecurityConfigInput
    ) -> UpdateAdminSecurityConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_admin_security_config(info.context, changes, resets)
        admin_security = None if outcome.problems else AdminSecurityConfig.from_config(await info.context.config())
        return UpdateAdminSecurityConfigPayload(
            admin_security=admin_security, user_errors=user_errors(outcome.problems)
        )

    @strawberry.mutation(
        extensions=[admin_only(Resource.CONFIG_WEBAPI)],
        description="Change the query cost limit and throttling settings; fields left out keep their values. "
        "Every worker uses the new values from its next request. Nothing is saved on errors.",
    )
    async def update_rate_limit_config(
        self, info: strawberry.Info, input: UpdateRateLimitConfigInput
    ) -> UpdateRateLimitConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_rate_limit_config(info.context, changes, resets)
        rate_limits = None if outcome.problems else RateLimitConfig.from_config(await info.context.config())
        return UpdateRateLimitConfigPayload(rate_limits=rate_limits, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.CONFIG_SYSTEM)],
        description="Change how long the audit trail (System > Action Logs) keeps events; fields left out keep their "
        "values. Shortening it deletes the older events at the next retention run (hourly, and at start). Nothing is "
        "saved on errors.",
    )
    async def update_action_log_config(
        self, info: strawberry.Info, input: UpdateActionLogConfigInput
    ) -> UpdateActionLogConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_action_log_config(info.context, changes, resets)
        action_logs = None if outcome.problems else ActionLogConfig.from_config(await info.context.config())
        return UpdateActionLogConfigPayload(action_logs=action_logs, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.INTEGRATIONS)],
        description="Change the webhook delivery settings; fields left out keep their values. Every worker uses the "
        "new values from its next delivery. Nothing is saved on errors.",
    )
    async def update_webhook_config(
        self, info: strawberry.Info, input: UpdateWebhookConfigInput
    ) -> UpdateWebhookConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_webhook_config(info.context, changes, resets)
        webhooks = None if outcome.problems else WebhookConfig.from_config(await info.context.config())
        return UpdateWebhookConfigPayload(webhooks=webhooks, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.CONFIG_WEBAPI)],
        description="Change how long HTTP caches may keep public GraphQL answers; fields left out keep their values. "
        "Nothing is saved on errors. Like every setting, a change empties the response caches.",
    )
    async def update_caching_config(
        self, info: strawberry.Info, input: UpdateCachingConfigInput
    ) -> UpdateCachingConfigPayload:
        changes = dataclasses.asdict(input)
        resets = [SETTING_BY_FIELD.get(name, name) for name in changes.pop("use_system_value") or []]
        outcome = await resolve.update_caching_config(info.context, changes, resets)
        caching = None if outcome.problems else CachingConfig.from_config(await info.context.config())
        return UpdateCachingConfigPayload(caching=caching, user_errors=user_errors(outcome.problems))
