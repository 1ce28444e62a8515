import unicodedata

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

THROTTLE_ADMIN = 3  # auth.admin_tokens.THROTTLE_ADMIN (Magento: admin user type)


def _key(name: str) -> str:
    """models.names.name_key, as of this migration."""
    return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).split())


async def fill_username_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Key every admin user and re-key the admins' sign-in counts by it.

    Users that were twins by case already ("Admin" and "admin") keep both rows: the older one keeps the
    name's key, the newer one gets a suffixed key and signs in again once an admin renames it.
    """
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    first, second = ("$1", "$2") if postgres else ("?", "?")
    _count, rows = await client.execute_query("SELECT id, username FROM admin_user ORDER BY id")
    taken: set[str] = set()
    for row in rows:
        key = _key(row["username"])
        if key in taken:
            key = f"{key} [twin {row['id']}]"
        taken.add(key)
        await client.execute_query(f"UPDATE admin_user SET username_key = {first} WHERE id = {second}", [key, row["id"]])
    _count, attempts = await client.execute_query(
        f"SELECT id, user_name FROM oauth_token_request_log WHERE user_type = {first} ORDER BY id", [THROTTLE_ADMIN]
    )
    keyed: set[str] = set()
    for attempt in attempts:
        key = _key(attempt["user_name"])
        if key in keyed:  # "Admin" and "admin" were counted apart: the first count found stands
            await client.execute_query(f"DELETE FROM oauth_token_request_log WHERE id = {first}", [attempt["id"]])
            continue
        keyed.add(key)
        if key != attempt["user_name"]:
            await client.execute_query(
                f"UPDATE oauth_token_request_log SET user_name = {first} WHERE id = {second}", [key, attempt["id"]]
            )


class Migration(migrations.Migration):
    """User names compare as Magento's database compares them, ignoring case (and Unicode forms): "Admin"
    signs in as "admin", cannot be created beside it, and shares its lock-out count."""

    dependencies = [('models', '0007_totp_steps_and_token_expiry')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AdminUser',
            name='username_key',
            field=fields.CharField(null=True, unique=True, description='The user name as compared (``models.names.name_key``): unique, so "Admin" is "admin", as in Magento.', max_length=255),
        ),
        ops.RunPython(fill_username_keys),
    ]
