from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class DescribeField(ops.AlterField):
    """A field whose description changed: the state only. SQLite's schema editor would remake the whole table for
    it, and dropping ``admin_user`` to remake it would cascade to every admin token."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        return


class IndexField(ops.AlterField):
    """A field that gains an index: a plain ``CREATE INDEX`` (named as the schema editor names it), where SQLite's
    schema editor would remake the table."""

    def __init__(self, model_name, name, field, index):  # type: ignore[no-untyped-def]
        super().__init__(model_name=model_name, name=name, field=field)
        self.index = index

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        await state_editor._run_sql(f'CREATE INDEX IF NOT EXISTS "{self.index}" ON "{table}" ("{self.name}")')


class Migration(migrations.Migration):
    """Two-factor codes are accepted once (the last accepted time step is kept), and expired admin tokens are
    found by an index so that sign-in can delete them a batch at a time."""

    dependencies = [('models', '0006_admin_roles')]

    initial = False

    operations = [
        IndexField(
            'AdminToken',
            'expires_at',
            fields.DatetimeField(db_index=True, description='Indexed: sign-in deletes expired tokens a batch at a time, oldest first.', auto_now=False, auto_now_add=False),
            'idx_admin_token_expires_95136e',
        ),
        DescribeField(
            model_name='AdminUser',
            name='role',
            field=fields.ForeignKeyField('models.AdminRole', source_field='role_id', null=True, description='No role holds nothing. A role cannot be deleted while a user holds it.', db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.RESTRICT),
        ),
        DescribeField(
            model_name='AdminUser',
            name='totp_enabled',
            field=fields.BooleanField(default=False, description='Enrolment confirmed with a code: sign-in needs one from now on.'),
        ),
        DescribeField(
            model_name='AdminUser',
            name='totp_secret',
            field=fields.CharField(null=True, description='The TOTP secret, encrypted (``auth.secret_box``); set at enrolment.', max_length=255),
        ),
        ops.AddField(
            model_name='AdminUser',
            name='totp_last_step',
            field=fields.BigIntField(null=True, description='The RFC 6238 time step of the last code accepted: a code (or an older one) is never accepted again.'),
        ),
    ]
