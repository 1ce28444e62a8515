"""The audit trail (``audit``): append-only events chained by hashes, and the chain's head row that every append
locks. Ids are the events' places in the chain, assigned by the writer, not generated."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_rate_limits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditChain',
            fields=[
                ('id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('length', fields.BigIntField(default=0)),
                ('last_hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_chain', 'app': 'models', 'pk_attr': 'id', 'table_description': "The chain's head: one row (id 1), locked by every append, so concurrent writers never fork the chain."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=False, primary_key=True, unique=True, db_index=True, description="The event's place in the chain, assigned under the chain head's lock (not by the database).")),
                ('occurred_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor_type', fields.CharField(description='``ADMIN``, ``INTEGRATION``, ``SYSTEM`` (command line, integrations file, retention) or ``GUEST``.', max_length=16)),
                ('actor_id', fields.IntField(null=True, description="The admin user's or integration's id (null for the system and guests).")),
                ('actor_name', fields.CharField(null=True, description="The admin's user name or the integration's name at the time (they may be renamed or deleted later).", max_length=255)),
                ('action', fields.CharField(description='Dotted lower-case: ``integration.created``, ``admin.sign_in_failed`` (``audit.actions.Action``).', max_length=64)),
                ('target_type', fields.CharField(null=True, description='``integration``, ``admin_user``, ``admin_role``, ``config``, ... (null when the event has no target).', max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=64)),
                ('details', fields.TextField(description='Canonical JSON (sorted keys), hashed exactly as stored, never a secret.', unique=False)),
                ('request_id', fields.CharField(null=True, max_length=128)),
                ('client_ip', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=255)),
                ('prev_hash', fields.CharField(description="The previous event's ``hash`` (64 zeros before the first event).", max_length=64)),
                ('hash', fields.CharField(description="SHA-256 over ``prev_hash`` and this row's content (``audit.chain.event_hash``).", max_length=64)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['action', 'id']), Index(fields=['actor_type', 'actor_id', 'id']), Index(fields=['target_type', 'target_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One event: who (actor), what (action), to what (target), with what (details), from where, when.'},
            bases=['Model'],
        ),
    ]
