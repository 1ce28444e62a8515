"""Store configuration as Magento keeps it: one row per config path."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ConfigValue(Model):
    id = fields.IntField(primary_key=True)
    path = fields.CharField(max_length=255, unique=True)
    value = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "core_config_data"
