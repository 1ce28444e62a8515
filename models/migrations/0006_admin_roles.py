from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class AddColumn(ops.AddField):
    """Add a column to a table that may hold rows: the generated ``ADD COLUMN`` has no ``DEFAULT`` (a NOT NULL
    column then fails on a non-empty table), so the column is written out here, the same on both databases
    unless ``postgres`` differs."""

    def __init__(self, model_name, name, field, sql, *, postgres=None, column=None):  # type: ignore[no-untyped-def]
        super().__init__(model_name=model_name, name=name, field=field)
        self.sql, self.postgres, self.column = sql, postgres, column or name

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        definition = self.postgres if state_editor.DIALECT == "postgres" and self.postgres else self.sql
        await state_editor._run_sql(f'ALTER TABLE "{table}" ADD COLUMN "{self.column}" {definition}')


ADMINISTRATORS = "Administrators"


async def create_administrators_role(apps, schema_editor):  # type: ignore[no-untyped-def]
    """The built-in role "Administrators" (All), held by every admin that existed before roles did."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    marks = ("$1", "$2", "$3") if postgres else ("?", "?", "?")
    true = "TRUE" if postgres else "1"
    await client.execute_query(
        "INSERT INTO admin_role (name, name_key, all_resources, resources, partial_resources, selected, created_at, updated_at) "
        f"VALUES ({marks[0]}, {marks[1]}, {true}, '[]', '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [ADMINISTRATORS, ADMINISTRATORS.casefold()],
    )
    await client.execute_query(
        f"UPDATE admin_user SET role_id = (SELECT id FROM admin_role WHERE name_key = {marks[0]})",
        [ADMINISTRATORS.casefold()],
    )


class Migration(migrations.Migration):
    """Admin users hold a role on the ACL tree; admins from before hold "Administrators" (All)."""

    dependencies = [('models', '0005_integration_names')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AdminRole',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('name_key', fields.CharField(unique=True, description='The name compared as people read it (NFKC, case-folded, spaces collapsed), unique.', max_length=255)),
                ('all_resources', fields.BooleanField(default=False)),
                ('resources', fields.JSONField(default=list, description='Held resources: the chosen nodes with their subtrees.', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('partial_resources', fields.JSONField(default=list, description='Ancestors of chosen nodes (shown half-ticked, grant nothing).', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('selected', fields.JSONField(default=list, description='What the admin ticked.', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'admin_role', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A User Role (System > Permissions > User Roles): a named grant on the same ACL tree as integrations.'},
            bases=['Model'],
        ),
        AddColumn('AdminUser', 'email', fields.CharField(default='', max_length=255), "VARCHAR(255) NOT NULL DEFAULT ''"),
        AddColumn('AdminUser', 'first_name', fields.CharField(default='', max_length=255), "VARCHAR(255) NOT NULL DEFAULT ''"),
        AddColumn('AdminUser', 'last_name', fields.CharField(default='', max_length=255), "VARCHAR(255) NOT NULL DEFAULT ''"),
        AddColumn(
            'AdminUser',
            'role',
            fields.ForeignKeyField('models.AdminRole', source_field='role_id', null=True, db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.RESTRICT),
            'INT NULL REFERENCES "admin_role" ("id") ON DELETE RESTRICT',
            column='role_id',
        ),
        AddColumn('AdminUser', 'totp_enabled', fields.BooleanField(default=False), "INT NOT NULL DEFAULT 0", postgres="BOOL NOT NULL DEFAULT FALSE"),
        AddColumn('AdminUser', 'totp_secret', fields.CharField(null=True, max_length=255), "VARCHAR(255) NULL"),
        ops.RunPython(create_administrators_role),
    ]
