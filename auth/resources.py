"""The ACL resource ids that the schema's access rules name, typed, in one place.

A rule names a ``Resource`` member, never a bare string, so a misspelt id is an ``AttributeError`` at
import. The members are Magento's ids, and the start-up audit (``auth.rules``) still checks every id a
rule names against the resource tree, so an id that is not in the tree stops the server from starting
instead of silently making a field reachable by nobody but "All".
"""

from __future__ import annotations

import enum


class Resource(enum.StrEnum):
    """Magento ACL resource ids used by access rules (see ``auth.acl.TREE`` for titles and the tree)."""

    ALL = "Magento_Backend::all"
    ADMIN = "Magento_Backend::admin"
    STORES = "Magento_Backend::store"
    PRODUCTS = "Magento_Catalog::products"
    CATEGORIES = "Magento_Catalog::categories"
    CMS_PAGES = "Magento_Cms::page"
    CMS_PAGE_SAVE = "Magento_Cms::save"
    CMS_PAGE_DELETE = "Magento_Cms::page_delete"
    CMS_BLOCKS = "Magento_Cms::block"
    CUSTOMERS = "Magento_Customer::manage"
    ORDERS_VIEW = "Magento_Sales::actions_view"
    INTEGRATIONS = "Magento_Integration::integrations"
    CONFIG_OAUTH = "Magento_Integration::config_oauth"
    CONFIG_WEBAPI = "Magento_Webapi::config_webapi"
    CONFIG_ADMIN = "Magento_Config::config_admin"
    CONFIG_SYSTEM = "Magento_Config::config_system"
    PERMISSIONS = "Magento_User::acl"
    ADMIN_USERS = "Magento_User::acl_users"
    ADMIN_ROLES = "Magento_User::acl_roles"
    LOCKED_USERS = "Magento_User::locks"
    #: System > Action Logs (Adobe Commerce's id): the audit trail.
    ACTION_LOGS = "Magento_Logging::magento_logging"
