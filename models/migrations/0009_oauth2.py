"""OAuth 2.0 client credentials (``auth.oauth2``): which methods an integration may use, its bearer tokens
(stored hashed), and the previous consumer secret kept through a rotation's overlap."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields


class AddColumn(ops.AddField):
    """Add a NOT NULL column to a table that may hold rows, with its ``DEFAULT`` written out (as in 0006)."""

    def __init__(self, model_name, name, field, sql, *, postgres=None):  # type: ignore[no-untyped-def]
        super().__init__(model_name=model_name, name=name, field=field)
        self.sql, self.postgres = sql, postgres

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        definition = self.postgres if state_editor.DIALECT == "postgres" and self.postgres else self.sql
        await state_editor._run_sql(f'ALTER TABLE "{table}" ADD COLUMN "{self.name}" {definition}')


class Migration(migrations.Migration):
    dependencies = [('models', '0008_username_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OAuth2AccessToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('integration', fields.ForeignKeyField('models.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='oauth2_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, description='SHA-256 of the token (``auth.tokens.hash_token``): the token itself is never stored.', max_length=64)),
                ('scope', fields.TextField(description='Granted scope, space-separated resource ids.', unique=False)),
                ('resources', fields.JSONField(default=list, description="Resources the token holds (expanded), before intersecting with the integration's grant at each use.", encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth2_access_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An OAuth 2.0 client-credentials access token (``auth.oauth2``): opaque, stored only as its hash.'},
            bases=['Model'],
        ),
        AddColumn(
            'Integration',
            'allow_oauth1',
            fields.BooleanField(default=True, description='May use OAuth 1.0a (the default).'),
            "INT NOT NULL DEFAULT 1",
            postgres="BOOL NOT NULL DEFAULT TRUE",
        ),
        AddColumn(
            'Integration',
            'allow_oauth2',
            fields.BooleanField(default=False, description='May use OAuth 2.0 client credentials.'),
            "INT NOT NULL DEFAULT 0",
            postgres="BOOL NOT NULL DEFAULT FALSE",
        ),
        ops.AddField(
            model_name='OAuthConsumer',
            name='previous_secret',
            field=fields.CharField(null=True, description='Encrypted. Valid during the overlap.', max_length=255),
        ),
        ops.AddField(
            model_name='OAuthConsumer',
            name='previous_secret_expires_at',
            field=fields.DatetimeField(null=True, description='When the previous secret stops working.', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OAuthConsumer',
            name='secret_rotated_at',
            field=fields.DatetimeField(null=True, description='When the secret was last rotated.', auto_now=False, auto_now_add=False),
        ),
    ]
