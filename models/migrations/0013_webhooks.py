"""Webhooks (``resolvers.webhooks``): subscriptions with their events, the outbox of deliveries, and each
attempt's record."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_integration_activity')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('integration', fields.ForeignKeyField('models.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name='webhook_subscriptions', on_delete=OnDelete.CASCADE)),
                ('target_url', fields.CharField(max_length=2048)),
                ('query', fields.TextField(description='The GraphQL subscription document that selects each payload.', unique=False)),
                ('secret', fields.CharField(description='Encrypted signing secret.', max_length=255)),
                ('previous_secret', fields.CharField(null=True, description='Encrypted. Signs during the overlap.', max_length=255)),
                ('previous_secret_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('secret_rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('is_active', fields.BooleanField(default=True)),
                ('consecutive_failures', fields.IntField(default=0, description='Failed attempts since the last successful one (the subscription is disabled when it reaches the setting).')),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_subscription', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Where an integration wants events sent, and what their payload selects (a GraphQL subscription document).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('models.WebhookSubscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(max_length=32)),
                ('message_id', fields.CharField(unique=True, description='The ``webhook-id`` header: the same on every attempt, so receivers can drop duplicates.', max_length=64)),
                ('payload', fields.TextField(description="The entity as the write left it (JSON), rendered through the subscription's document when delivered.", unique=False)),
                ('status', fields.CharField(default='PENDING', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, description="When the next attempt is due (while claimed: when the claim's lease ends), null once finished.", auto_now=False, auto_now_add=False)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('response_status', fields.IntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['subscription_id', 'id'])], 'pk_attr': 'id', 'table_description': "One event for one subscription: the outbox row, its state, and its latest attempt's result."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDeliveryAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('models.WebhookDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField(description="The attempt's number (1 is the first), each claimed by one worker only.")),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('response_status', fields.IntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('succeeded', fields.BooleanField()),
            ],
            options={'table': 'webhook_delivery_attempt', 'app': 'models', 'unique_together': (('delivery', 'number'),), 'pk_attr': 'id', 'table_description': "What one attempt did: the answer's status and time, or why there was none."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookSubscriptionEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('models.WebhookSubscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(db_index=True, max_length=32)),
            ],
            options={'table': 'webhook_subscription_event', 'app': 'models', 'unique_together': (('subscription', 'event'),), 'pk_attr': 'id', 'table_description': 'One event a subscription is for: the outbox finds the subscriptions of an event by this table.'},
            bases=['Model'],
        ),
    ]
