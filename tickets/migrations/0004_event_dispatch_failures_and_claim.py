from django.db import migrations, models


class Migration(migrations.Migration):
    """Count only failed dispatches (duplicates no longer count), and let the sweep claim events."""

    dependencies = [
        ("tickets", "0003_event_type_timer"),
    ]

    operations = [
        migrations.RenameField(
            model_name="ticketevent", old_name="dispatch_attempts", new_name="dispatch_failures"
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="dispatch_failures",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Dispatches that raised; after too many the sweep leaves it alone.",
            ),
        ),
        migrations.AddField(
            model_name="ticketevent",
            name="next_dispatch_at",
            field=models.DateTimeField(
                blank=True,
                help_text="The sweep leaves it alone until then (a claim, or a failure's backoff).",
                null=True,
            ),
        ),
    ]
