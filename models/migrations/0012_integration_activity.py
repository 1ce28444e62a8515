"""Per-integration activity (``auth.activity``): calls allowed and denied per ACL resource and UTC day, with the
last use; one row per (integration, resource, day), which the counting upsert relies on."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_audit_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IntegrationActivity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('integration', fields.ForeignKeyField('models.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='activity', on_delete=OnDelete.CASCADE)),
                ('resource', fields.CharField(description='ACL resource id, or empty for the requests themselves.', max_length=255)),
                ('day', fields.DateField(db_index=True, description='The UTC day counted.')),
                ('calls', fields.BigIntField(default=0, description='Calls allowed.')),
                ('denied', fields.BigIntField(default=0, description='Calls denied.')),
                ('last_used_at', fields.DatetimeField(null=True, description='The latest call counted, allowed or denied.', auto_now=False, auto_now_add=False)),
                ('last_used_from', fields.CharField(null=True, description='The client address of that call.', max_length=64)),
            ],
            options={'table': 'integration_activity', 'app': 'models', 'unique_together': (('integration', 'resource', 'day'),), 'pk_attr': 'id', 'table_description': 'What one integration did with one ACL resource on one day (UTC), as ``auth.activity`` counts it.'},
            bases=['Model'],
        ),
    ]
