"""Magento's ACL resource tree as data, and the one function that expands a Custom selection.

The tree is defined once here. ``Magento_Backend::all`` is the "All" grant; everything else hangs under
``Magento_Backend::admin``. A Custom grant is stored expanded: every chosen node brings its subtree, its
ancestors are recorded as partial. Enforcement checks membership of the stored set only, so a resource
added to the tree later is not granted until the grant is saved again (Magento issue 37620).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

ALL = "Magento_Backend::all"
ADMIN = "Magento_Backend::admin"

#: Resources that Magento's "Allow Anonymous Guest Access" opens (catalog, CMS, stores).
GUEST_ELIGIBLE = frozenset(
    {
        "Magento_Catalog::products",
        "Magento_Catalog::categories",
        "Magento_Cms::page",
        "Magento_Cms::block",
        "Magento_Backend::store",
    }
)


@dataclasses.dataclass(frozen=True)
class AclResource:
    id: str
    title: str
    sort_order: int = 0
    children: tuple[AclResource, ...] = ()

    @property
    def guest_eligible(self) -> bool:
        return self.id in GUEST_ELIGIBLE


def _r(id_: str, title: str, sort_order: int = 0, *children: AclResource) -> AclResource:
    return AclResource(id_, title, sort_order, tuple(sorted(children, key=lambda c: c.sort_order)))


_SALES = _r(
    "Magento_Sales::sales",
    "Sales",
    20,
    _r(
        "Magento_Sales::sales_operation",
        "Operations",
        10,
        _r(
            "Magento_Sales::sales_order",
            "Orders",
            10,
            _r(
                "Magento_Sales::actions",
                "Actions",
                10,
                _r("Magento_Sales::create", "Create", 10),
                _r("Magento_Sales::actions_view", "View", 20),
                _r("Magento_Sales::email", "Send Order Email", 30),
                _r("Magento_Sales::reorder", "Reorder", 40),
                _r("Magento_Sales::actions_edit", "Edit", 50),
                _r("Magento_Sales::cancel", "Cancel", 60),
                _r("Magento_Sales::review_payment", "Accept or Deny Payment", 70),
                _r("Magento_Sales::capture", "Capture", 80),
                _r("Magento_Sales::invoice", "Invoice", 90),
                _r("Magento_Sales::creditmemo", "Credit Memos", 100),
                _r("Magento_Sales::hold", "Hold", 110),
                _r("Magento_Sales::unhold", "Unhold", 120),
                _r("Magento_Sales::ship", "Ship", 130),
                _r("Magento_Sales::comment", "Comment", 140),
                _r("Magento_Sales::emails", "Send Sales Emails", 150),
                _r("Magento_Sales::api_actions", "Order Save API", 160),
            ),
        ),
        _r("Magento_Sales::sales_invoice", "Invoices", 20),
        _r("Magento_Sales::shipment", "Shipments", 30),
        _r("Magento_Sales::sales_creditmemo", "Credit Memos", 40),
        _r(
            "Magento_Sales::transactions",
            "Transactions",
            70,
            _r("Magento_Sales::transactions_fetch", "Fetch", 10),
        ),
    ),
)

_CATALOG = _r(
    "Magento_Catalog::catalog",
    "Catalog",
    30,
    _r(
        "Magento_Catalog::catalog_inventory",
        "Inventory",
        10,
        _r(
            "Magento_Catalog::products",
            "Products",
            10,
            _r("Magento_Catalog::edit_product_design", "Edit Product Design", 10),
        ),
        _r(
            "Magento_Catalog::categories",
            "Categories",
            20,
            _r("Magento_Catalog::edit_category_design", "Edit Category Design", 10),
        ),
    ),
)

_CUSTOMERS = _r(
    "Magento_Customer::customer",
    "Customers",
    40,
    _r("Magento_Customer::manage", "All Customers", 10),
    _r("Magento_Customer::online", "Now Online", 20),
    _r("Magento_Customer::group", "Customer Groups", 30),
)

_MY_ACCOUNT = _r("Magento_Backend::myaccount", "My Account", 50)

_MARKETING = _r(
    "Magento_Backend::marketing",
    "Marketing",
    50,
    _r("Magento_Backend::marketing_seo", "SEO & Search", 30),
    _r("Magento_Backend::marketing_user_content", "User Content", 50),
)

_CONTENT = _r(
    "Magento_Backend::content",
    "Content",
    60,
    _r(
        "Magento_Backend::content_elements",
        "Elements",
        10,
        _r(
            "Magento_Cms::page",
            "Pages",
            10,
            _r("Magento_Cms::save", "Save Page", 10, _r("Magento_Cms::save_design", "Edit Page Design", 10)),
            _r("Magento_Cms::page_delete", "Delete Page", 20),
        ),
        _r("Magento_Cms::block", "Blocks", 20),
        _r("Magento_Cms::media_gallery", "Media Gallery", 30),
    ),
    _r("Magento_Backend::design", "Design", 20, _r("Magento_Backend::schedule", "Schedule", 30)),
    _r("Magento_Backend::content_translation", "Content translation", 30),
)

_REPORTS = _r(
    "Magento_Reports::report",
    "Reports",
    70,
    _r("Magento_Reports::report_marketing", "Marketing", 10),
    _r("Magento_Reports::review", "Reviews", 20),
    _r(
        "Magento_Reports::salesroot",
        "Sales",
        30,
        _r("Magento_Reports::salesroot_sales", "Orders", 10),
        _r("Magento_Reports::tax", "Tax", 20),
        _r("Magento_Reports::invoiced", "Invoiced", 30),
        _r("Magento_Reports::shipping", "Shipping", 40),
        _r("Magento_Reports::refunded", "Refunds", 50),
        _r("Magento_Reports::coupons", "Coupons", 60),
    ),
    _r("Magento_Reports::customers", "Customers", 40),
    _r("Magento_Reports::report_products", "Products", 50),
    _r("Magento_Reports::statistics", "Statistics", 60),
)

_STORES = _r(
    "Magento_Backend::stores",
    "Stores",
    80,
    _r(
        "Magento_Backend::stores_settings",
        "Settings",
        10,
        _r("Magento_Backend::store", "All Stores", 10),
        _r(
            "Magento_Config::config",
            "Configuration",
            20,
            _r("Magento_Backend::advanced", "Advanced Section", 10),
            _r("Magento_Config::config_admin", "Advanced Admin Section", 20),
            _r("Magento_Config::config_design", "Design Section", 30),
            _r("Magento_Config::config_general", "General Section", 40),
            _r("Magento_Config::config_system", "System Section", 50),
            _r("Magento_Backend::currency", "Currency Setup Section", 60),
            _r("Magento_Backend::dev", "Developer Section", 70),
            _r("Magento_Backend::web", "Web Section", 80),
            _r("Magento_Backend::trans_email", "Store Email Addresses Section", 90),
            _r("Magento_Catalog::config_catalog", "Catalog Section", 100),
            _r("Magento_Cms::config_cms", "Content Management", 110),
            _r("Magento_Customer::config_customer", "Customers Section", 120),
            _r("Magento_Sales::config_sales", "Sales Section", 130),
            _r("Magento_Sales::sales_email", "Sales Emails Section", 140),
            _r("Magento_Sales::sales_pdf", "PDF Print-outs", 150),
            _r("Magento_Webapi::config_webapi", "Magento Web API", 160),
            _r("Magento_Integration::config_oauth", "OAuth Section", 170),
        ),
        _r("Magento_Sales::order_statuses", "Order Status", 30),
    ),
    _r(
        "Magento_Backend::stores_attributes",
        "Attributes",
        20,
        _r("Magento_Catalog::attributes_attributes", "Product", 10),
        _r("Magento_Catalog::update_attributes", "Update Attributes", 20),
        _r("Magento_Catalog::sets", "Attribute Set", 30),
    ),
    _r("Magento_Backend::stores_other_settings", "Other Settings", 30),
)

_SYSTEM = _r(
    "Magento_Backend::system",
    "System",
    90,
    _r("Magento_Backend::convert", "Data Transfer", 10),
    _r(
        "Magento_Integration::extensions",
        "System Extensions",
        30,
        _r("Magento_Integration::integrations", "System Integrations", 40),
    ),
    _r(
        "Magento_Backend::tools",
        "Tools",
        40,
        _r(
            "Magento_Backend::cache",
            "Cache Management",
            10,
            _r("Magento_Backend::main_actions", "Flush Magento Cache", 10),
            _r("Magento_Backend::mass_actions", "Flush Cache Storage", 20),
        ),
    ),
    _r(
        "Magento_User::acl",
        "Permissions",
        50,
        _r("Magento_User::acl_users", "All Users", 10),
        _r("Magento_User::locks", "Locked Users", 20),
        _r("Magento_User::acl_roles", "User Roles", 30),
    ),
    # Adobe Commerce's Action Logs: the audit trail (``auditEvents`` requires the node itself).
    _r(
        "Magento_Logging::magento_logging",
        "Action Logs",
        70,
        _r("Magento_Logging::magento_logging_events", "Report", 10),
    ),
    _r("Magento_Backend::system_other_settings", "Other Settings", 80),
)

_GLOBAL_SEARCH = _r("Magento_Backend::global_search", "Global Search", 100)

_DASHBOARD = _r("Magento_Backend::dashboard", "Dashboard", 0)

ROOT = _r(
    ADMIN,
    "Magento Admin",
    20,
    _DASHBOARD,
    _SALES,
    _CATALOG,
    _CUSTOMERS,
    _MY_ACCOUNT,
    _MARKETING,
    _CONTENT,
    _REPORTS,
    _STORES,
    _SYSTEM,
    _GLOBAL_SEARCH,
)


class ResourceTree:
    """Index over a tree of resources: parents, subtrees, and the Custom-selection expansion."""

    def __init__(self, root: AclResource) -> None:
        self.root = root
        self._nodes: dict[str, AclResource] = {}
        self._parent: dict[str, str | None] = {}
        self._index(root, None)

    def _index(self, node: AclResource, parent: str | None) -> None:
        if node.id in self._nodes:
            raise ValueError(f"duplicate ACL resource id {node.id}")
        self._nodes[node.id] = node
        self._parent[node.id] = parent
        for child in node.children:
            self._index(child, node.id)

    def __contains__(self, resource_id: object) -> bool:
        return resource_id == ALL or resource_id in self._nodes

    def get(self, resource_id: str) -> AclResource:
        return self._nodes[resource_id]

    def ancestors(self, resource_id: str) -> Iterator[str]:
        parent = self._parent.get(resource_id)
        while parent is not None:
            yield parent
            parent = self._parent[parent]

    def subtree(self, resource_id: str) -> Iterator[str]:
        stack = [self._nodes[resource_id]]
        while stack:
            node = stack.pop()
            yield node.id
            stack.extend(node.children)

    def unknown(self, resource_ids: Iterable[str]) -> list[str]:
        return [r for r in resource_ids if r not in self]

    def expand_selection(self, selected: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Expand a Custom selection into (held, partial).

        Held: each chosen node and its whole subtree. Partial: ancestors of chosen nodes that are not
        themselves held (shown half-checked, as Magento's tree does; they grant nothing).
        Unknown ids raise ``KeyError``: callers validate first with :meth:`unknown`.
        """
        held: set[str] = set()
        for resource_id in selected:
            if resource_id == ALL:
                return frozenset({ALL}), frozenset()
            held.update(self.subtree(resource_id))
        partial = {a for r in held for a in self.ancestors(r)} - held
        return frozenset(held), frozenset(partial)


#: The tree every part of the server uses.
TREE = ResourceTree(ROOT)
