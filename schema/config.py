"""Stores > Configuration > Services: Magento Web API security and OAuth settings."""

from __future__ import annotations

import dataclasses

import strawberry

from auth.config import StoreConfig
from resolvers import config as resolve
from schema.core import UserError, UserErrorCode, user_error
from schema.directives import Resource, public, requires


@strawberry.type(description="Services > Magento Web API > Web API Security.")
class WebApiSecurityConfig:
    allow_anonymous_guest_access: bool = strawberry.field(
        description="This feature applies only to CMS, Catalog and Store APIs. Please consult your "
        "developers for details on potential security risks. (`webapi/webapisecurity/allow_insecure`)"
    )


@strawberry.type(description="Services > OAuth.")
class OAuthConfig:
    consumer_expiration_period: int = strawberry.field(
        description="Consumer key/secret will expire if not used within X seconds after Oauth token "
        "exchange starts. (`oauth/consumer/expiration_period`)"
    )
    consumer_post_max_redirects: int = strawberry.field(
        description="Number of maximum redirects for OAuth consumer credentials Post request."
    )
    consumer_post_timeout: int = strawberry.field(
        description="Timeout for OAuth consumer credentials Post request within X seconds."
    )
    enable_integration_as_bearer: bool = strawberry.field(
        description="Allow OAuth Access Tokens to be used as standalone Bearer tokens."
    )
    allow_hmac_sha1: bool = strawberry.field(
        description="Accept HMAC-SHA1 signatures from pre-2.4.4 clients (HMAC-SHA256 is always accepted)."
    )
    admin_token_lifetime: int = strawberry.field(description="Admin Token Lifetime (hours).")
    customer_token_lifetime: int = strawberry.field(description="Customer Token Lifetime (hours).")
    max_failures_count: int = strawberry.field(
        description="Maximum Number of authentication failures to lock out account."
    )
    lockout_time: int = strawberry.field(description="Period of time in seconds after which account will be unlocked.")
    cleanup_probability: int = strawberry.field(
        description="Launch cleanup in X OAuth requests. 0 (not recommended) - to disable cleanup."
    )
    cleanup_expiration_period: int = strawberry.field(description="Cleanup entries older than X minutes.")

    @classmethod
    def from_config(cls, config: StoreConfig) -> OAuthConfig:
        return cls(
            consumer_expiration_period=config.consumer_expiration_seconds,
            consumer_post_max_redirects=config.post_max_redirects,
            consumer_post_timeout=config.post_timeout_seconds,
            enable_integration_as_bearer=config.integration_as_bearer,
            allow_hmac_sha1=config.allow_hmac_sha1,
            admin_token_lifetime=config.admin_token_lifetime_hours,
            customer_token_lifetime=config.customer_token_lifetime_hours,
            max_failures_count=config.max_failures,
            lockout_time=config.lock_timeout_seconds,
            cleanup_probability=config.cleanup_probability,
            cleanup_expiration_period=config.cleanup_expiration_minutes,
        )


@strawberry.type(description="Store configuration; each section carries its own access rule.")
class Config:
    @strawberry.field(extensions=[requires(Resource.CONFIG_WEBAPI)])
    async def web_api_security(self, info: strawberry.Info) -> WebApiSecurityConfig | None:
        config = await info.context.config()
        return WebApiSecurityConfig(allow_anonymous_guest_access=config.allow_guest_access)

    @strawberry.field(extensions=[requires(Resource.CONFIG_OAUTH)])
    async def oauth(self, info: strawberry.Info) -> OAuthConfig | None:
        return OAuthConfig.from_config(await info.context.config())


@strawberry.input
class UpdateOAuthConfigInput:
    consumer_expiration_period: int | None = None
    consumer_post_max_redirects: int | None = None
    consumer_post_timeout: int | None = None
    enable_integration_as_bearer: bool | None = None
    allow_hmac_sha1: bool | None = None
    admin_token_lifetime: int | None = None
    customer_token_lifetime: int | None = None
    max_failures_count: int | None = None
    lockout_time: int | None = None
    cleanup_probability: int | None = None
    cleanup_expiration_period: int | None = None


@strawberry.type
class SetGuestAccessPayload:
    web_api_security: WebApiSecurityConfig | None
    user_errors: list[UserError]


@strawberry.type
class UpdateOAuthConfigPayload:
    oauth: OAuthConfig | None
    user_errors: list[UserError]


@strawberry.type
class ConfigQuery:
    @strawberry.field(extensions=[public()], description="Store configuration sections you may read.")
    def config(self) -> Config:
        return Config()


@strawberry.type
class ConfigMutation:
    @strawberry.mutation(
        extensions=[requires(Resource.CONFIG_WEBAPI)],
        description="Switch Allow Anonymous Guest Access; every worker sees it on its next request.",
    )
    async def set_guest_access(self, info: strawberry.Info, allow: bool) -> SetGuestAccessPayload:
        await resolve.set_guest_access(info.context, allow)
        config = await info.context.config()
        return SetGuestAccessPayload(
            web_api_security=WebApiSecurityConfig(allow_anonymous_guest_access=config.allow_guest_access),
            user_errors=[],
        )

    @strawberry.mutation(
        name="updateOAuthConfig",
        extensions=[requires(Resource.CONFIG_OAUTH)],
        description="Change OAuth settings; fields left out keep their values. Nothing is saved on errors.",
    )
    async def update_oauth_config(
        self, info: strawberry.Info, input: UpdateOAuthConfigInput
    ) -> UpdateOAuthConfigPayload:
        rows, problems = resolve.validate_oauth_changes(dataclasses.asdict(input))
        if problems:
            errors = [
                user_error(["input", strawberry_name(p.field)], p.message, UserErrorCode.OUT_OF_RANGE) for p in problems
            ]
            return UpdateOAuthConfigPayload(oauth=None, user_errors=errors)
        await resolve.update_oauth_config(info.context, rows)
        return UpdateOAuthConfigPayload(oauth=OAuthConfig.from_config(await info.context.config()), user_errors=[])


def strawberry_name(python_name: str) -> str:
    """The GraphQL (camelCase) name of an input field."""
    head, *rest = python_name.split("_")
    return head + "".join(part.title() for part in rest)
