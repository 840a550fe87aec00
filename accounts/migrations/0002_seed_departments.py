from django.db import migrations

from accounts.departments import DEFAULT_DEPARTMENTS, departments_ensure


def seed_departments(apps, schema_editor):
    departments_ensure(apps.get_model("accounts", "Department"))


def unseed_departments(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    slugs = [slug for slug, _ in DEFAULT_DEPARTMENTS]
    Department.objects.filter(slug__in=slugs, members=None).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed_departments, unseed_departments)]
