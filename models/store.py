"""Store data: websites and store views, catalog, CMS, customers and orders."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

PRODUCT_ENABLED = 1
PRODUCT_DISABLED = 2

# Magento's visibility values.
VISIBILITY_NOT_VISIBLE = 1
VISIBILITY_CATALOG = 2
VISIBILITY_SEARCH = 3
VISIBILITY_BOTH = 4


class Website(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=64)
    sort_order = fields.IntField(default=0)
    is_default = fields.BooleanField(default=False)

    class Meta:
        table = "store_website"


class StoreGroup(Model):
    id = fields.IntField(primary_key=True)
    website: fields.ForeignKeyRelation[Website] = fields.ForeignKeyField(
        "models.Website", related_name="groups", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=255)
    root_category_id = fields.IntField(default=0)

    class Meta:
        table = "store_group"


class StoreView(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=255)
    website: fields.ForeignKeyRelation[Website] = fields.ForeignKeyField(
        "models.Website", related_name="store_views", on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyRelation[StoreGroup] = fields.ForeignKeyField(
        "models.StoreGroup", related_name="store_views", on_delete=fields.CASCADE
    )
    sort_order = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "store_view"


class StoreConfig(Model):
    id = fields.IntField(primary_key=True)
    store_view: fields.OneToOneRelation[StoreView] = fields.OneToOneField(
        "models.StoreView", related_name="config", on_delete=fields.CASCADE
    )
    base_url = fields.CharField(max_length=255)
    locale = fields.CharField(max_length=16)
    base_currency_code = fields.CharField(max_length=3)
    default_display_currency_code = fields.CharField(max_length=3)
    timezone = fields.CharField(max_length=64)
    weight_unit = fields.CharField(max_length=8, default="lbs")

    class Meta:
        table = "store_config"


class Category(Model):
    id = fields.IntField(primary_key=True)
    parent: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "models.Category", related_name="children", null=True, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    url_key = fields.CharField(max_length=255, db_index=True)
    #: Materialised path of ids, e.g. "1/2/5".
    path = fields.CharField(max_length=255, db_index=True)
    level = fields.IntField(default=0)
    position = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "catalog_category"
        #: Children of many parents in one query (the category tree loader).
        indexes = (("parent_id", "position"),)


class Product(Model):
    id = fields.IntField(primary_key=True)
    sku = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=255, db_index=True)
    price = fields.DecimalField(max_digits=12, decimal_places=2)
    status = fields.SmallIntField(default=PRODUCT_ENABLED)
    visibility = fields.SmallIntField(default=VISIBILITY_BOTH)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "catalog_product"
        indexes = (("status", "visibility", "id"),)


class ProductCategory(Model):
    """The product-category link table, queried directly (a reverse m2m filter makes SQLite scan)."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="category_links", on_delete=fields.CASCADE
    )
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "models.Category", related_name="product_links", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "catalog_category_product"
        unique_together = (("product", "category"),)
        indexes = (("category_id", "product_id"),)


class CmsPage(Model):
    id = fields.IntField(primary_key=True)
    identifier = fields.CharField(max_length=100, unique=True)
    title = fields.CharField(max_length=255)
    content_heading = fields.CharField(max_length=255, default="")
    content = fields.TextField(default="")
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cms_page"


class CmsBlock(Model):
    id = fields.IntField(primary_key=True)
    identifier = fields.CharField(max_length=255, unique=True)
    title = fields.CharField(max_length=255)
    content = fields.TextField(default="")
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cms_block"


class Customer(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=255, unique=True)
    firstname = fields.CharField(max_length=255)
    lastname = fields.CharField(max_length=255)
    group_id = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_entity"


class SalesOrder(Model):
    id = fields.IntField(primary_key=True)
    increment_id = fields.CharField(max_length=32, unique=True)
    status = fields.CharField(max_length=32, db_index=True)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="orders", null=True, on_delete=fields.SET_NULL
    )
    customer_email = fields.CharField(max_length=255)
    currency_code = fields.CharField(max_length=3, default="USD")
    subtotal = fields.DecimalField(max_digits=12, decimal_places=2)
    shipping_amount = fields.DecimalField(max_digits=12, decimal_places=2, default=0)
    grand_total = fields.DecimalField(max_digits=12, decimal_places=2)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sales_order"
        #: The customer's orders, and the ON DELETE SET NULL of a customer, without a scan.
        indexes = (("customer_id",),)


class SalesOrderItem(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[SalesOrder] = fields.ForeignKeyField(
        "models.SalesOrder", related_name="items", on_delete=fields.CASCADE
    )
    sku = fields.CharField(max_length=64)
    name = fields.CharField(max_length=255)
    qty_ordered = fields.IntField()
    price = fields.DecimalField(max_digits=12, decimal_places=2)
    row_total = fields.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        table = "sales_order_item"
        #: The items of a page of orders in one indexed query.
        indexes = (("order_id",),)
