import unicodedata

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


def _key(name: str) -> str:
    """resolvers.integrations.validation.name_key, as of this migration."""
    return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).split())


async def fill_name_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Key every existing integration; names that were twins already keep both rows (suffixed keys)."""
    client = schema_editor.client
    _count, rows = await client.execute_query("SELECT id, name FROM integration ORDER BY id")
    taken: set[str] = set()
    for row in rows:
        key = _key(row["name"])
        if key in taken:
            key = f"{key} [twin {row['id']}]"  # a twin from before keys existed: an admin renames one
        taken.add(key)
        placeholder = "$1" if client.capabilities.dialect == "postgres" else "?"
        second = "$2" if placeholder == "$1" else "?"
        await client.execute_query(f"UPDATE integration SET name_key = {placeholder} WHERE id = {second}", [key, row["id"]])

class Migration(migrations.Migration):
    """Integration names compare by a normalised key the database keeps unique; the integrations file's
    declarations are remembered (names reserved, problems shown to admins)."""

    dependencies = [('models', '0004_token_rows_by_type')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IntegrationDeclaration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name_key', fields.CharField(null=True, unique=True, max_length=255)),
                ('name', fields.CharField(null=True, max_length=255)),
                ('problem', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'integration_declaration', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What the integrations file declared at the last start: each name reserved, and what went wrong.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Integration',
            name='name_key',
            field=fields.CharField(null=True, unique=True, description='The name as compared (``resolvers.integrations.validation.name_key``): unique, so no twins by case or Unicode.', max_length=255),
        ),
        ops.RunPython(fill_name_keys),
    ]
