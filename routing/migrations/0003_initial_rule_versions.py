from django.db import migrations

FIELDS = (
    "name",
    "description",
    "is_active",
    "order",
    "trigger",
    "conditions",
    "actions",
    "stop_processing",
)


def version_existing_rules(apps, schema_editor):
    Rule = apps.get_model("routing", "Rule")
    RuleVersion = apps.get_model("routing", "RuleVersion")
    for rule in Rule.objects.filter(version=0):
        RuleVersion.objects.create(
            rule=rule,
            number=1,
            definition={field: getattr(rule, field) for field in FIELDS},
            changed_fields=list(FIELDS),
            summary="Created",
        )
        rule.version = 1
        rule.save(update_fields=["version"])


def unversion(apps, schema_editor):
    apps.get_model("routing", "RuleVersion").objects.all().delete()
    apps.get_model("routing", "Rule").objects.update(version=0)


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_rule_versions_explanations_deliveries")]

    operations = [migrations.RunPython(version_existing_rules, unversion)]
