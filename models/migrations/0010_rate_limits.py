from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_oauth2')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Integration',
            name='rate_limit_bucket_size',
            field=fields.IntField(null=True, description="This integration's own rate-limit bucket (points) and restore rate (points a second), null for the store's."),
        ),
        ops.AddField(
            model_name='Integration',
            name='rate_limit_restore_rate',
            field=fields.IntField(null=True),
        ),
    ]
