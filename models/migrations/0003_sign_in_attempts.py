from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_store_foreign_key_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bucket', fields.CharField(description='``<what>:<client address>``, e.g. ``sign-in:203.0.113.9``.', max_length=128)),
                ('window_start', fields.BigIntField(db_index=True, description='Start of the window, in seconds since the epoch.')),
                ('hits', fields.IntField(default=0)),
            ],
            options={'table': 'client_throttle', 'app': 'models', 'unique_together': (('bucket', 'window_start'),), 'pk_attr': 'id', 'table_description': 'Requests per client address and minute, for the endpoints that guess at secrets (sign-in, OAuth tokens).'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='TokenRequestLog',
            options={'table': 'oauth_token_request_log', 'app': 'models', 'unique_together': (('user_name', 'user_type'),), 'pk_attr': 'id', 'table_description': "Sign-in attempts per user name (Magento's ``oauth_token_request_log``), also for unknown names."},
        ),
        ops.AddField(
            model_name='TokenRequestLog',
            name='last_attempt_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
    ]
