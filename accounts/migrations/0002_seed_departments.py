from django.db import migrations

DEPARTMENTS = [
    ("support", "Support"),
    ("engineering", "Engineering"),
    ("marketing", "Marketing"),
    ("finance", "Finance"),
    ("shipping", "Shipping"),
    ("sales", "Sales"),
]


def seed_departments(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    for slug, name in DEPARTMENTS:
        Department.objects.get_or_create(slug=slug, defaults={"name": name})


def unseed_departments(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    Department.objects.filter(slug__in=[slug for slug, _ in DEPARTMENTS], members=None).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed_departments, unseed_departments)]
