"""The departments every installation starts with, which the starter rules route to."""

DEFAULT_DEPARTMENTS = [
    ("support", "Support"),
    ("engineering", "Engineering"),
    ("marketing", "Marketing"),
    ("finance", "Finance"),
    ("shipping", "Shipping"),
    ("sales", "Sales"),
]


def departments_ensure(department_model) -> None:
    """Create the default departments that are missing.

    Takes the model class so the data migration can pass its historical model.
    """
    for slug, name in DEFAULT_DEPARTMENTS:
        department_model.objects.get_or_create(slug=slug, defaults={"name": name})
