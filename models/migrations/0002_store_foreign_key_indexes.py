from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Category',
            index=Index(fields=['parent_id', 'position']),
        ),
        ops.AddIndex(
            model_name='SalesOrder',
            index=Index(fields=['customer_id']),
        ),
        ops.AddIndex(
            model_name='SalesOrderItem',
            index=Index(fields=['order_id']),
        ),
    ]
