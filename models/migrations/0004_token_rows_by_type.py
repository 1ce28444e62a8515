from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint


class RemoveInlineUniqueTogether(ops.RemoveConstraint):
    """SQLite keeps a ``unique_together`` inline in ``CREATE TABLE``, where ``DROP INDEX`` cannot reach it:
    there the table is remade from the new state (SQLite's own way to change a table), elsewhere the
    constraint is dropped."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is not None and state_editor.DIALECT == "sqlite":
            await state_editor._remake_table(new_state.apps.get_model(f"{app_label}.{self.model_name}"))
            # Remaking drops the table's other indexes: put back the one 0001 made (same name).
            await state_editor._run_sql(
                'CREATE INDEX IF NOT EXISTS "idx_oauth_token_created_eb604f" ON "oauth_token" ("created_at")'
            )
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    """A consumer's access token and the token of a running exchange are separate rows, so a reauthorization
    keeps the old access token working until the new exchange completes; one token exchange of an integration
    is started at a time (``activation_started_at``)."""

    dependencies = [('models', '0003_sign_in_attempts')]

    initial = False

    operations = [
        RemoveInlineUniqueTogether(
            model_name='OAuthToken',
            name=None,
            fields=['consumer', 'user_type'],
        ),
        ops.AddConstraint(
            model_name='OAuthToken',
            constraint=UniqueConstraint(fields=('consumer', 'user_type', 'type'), name=None),
        ),
        ops.AddField(
            model_name='OAuthConsumer',
            name='activation_started_at',
            field=fields.DatetimeField(null=True, description='While a token exchange is being started (its credentials POSTed): overlapping ones are refused.', auto_now=False, auto_now_add=False),
        ),
        ops.AlterModelOptions(
            name='OAuthToken',
            options={'table': 'oauth_token', 'app': 'models', 'unique_together': (('consumer', 'user_type', 'type'),), 'pk_attr': 'id', 'table_description': "A consumer's access token, or the token of its running exchange (verifier -> request -> access)."},
        ),
    ]
