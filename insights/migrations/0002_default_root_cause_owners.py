from django.db import migrations

# Which function creates problems of each root cause, to start with (editable in the admin). A
# copy, as a migration must not change when the code does (insights.models.DEFAULT_OWNERS).
DEFAULT_OWNERS = {
    "product_defect": "engineering",
    "usability": "engineering",
    "manufacturing": "engineering",
    "documentation": "marketing",
    "installation": "support",
    "customer_training": "support",
    "order_entry_error": "sales",
    "shipping_damage": "shipping",
    "other": "support",
}


def forwards(apps, schema_editor):
    Owner = apps.get_model("insights", "RootCauseOwner")
    Department = apps.get_model("accounts", "Department")
    for cause, slug in DEFAULT_OWNERS.items():
        Owner.objects.get_or_create(
            root_cause=cause, defaults={"department": Department.objects.filter(slug=slug).first()}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_root_cause_owners"),
        ("accounts", "0007_portal_links_sharing_internal"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
