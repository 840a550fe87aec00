import django.contrib.postgres.indexes
from django.db import migrations

from helpdesk.migration_operations import postgres_brin_index


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0013_survey_answered_trigger"),
    ]

    operations = [
        postgres_brin_index(
            "routing",
            "routingrun",
            django.contrib.postgres.indexes.BrinIndex(
                fields=["created_at"], name="routingrun_created_brin"
            ),
        ),
    ]
