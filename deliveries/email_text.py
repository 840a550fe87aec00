"""The words of emails to staff: templates in ``templates/email/``, plain text, not escaped.

``<name>_subject.txt`` is the subject (folded onto one line), ``<name>.txt`` the body.
"""

from django.template.loader import render_to_string


def email_text(name: str, context: dict) -> tuple[str, str]:
    """The subject and body of the staff email ``name`` for ``context``."""
    subject = " ".join(render_to_string(f"email/{name}_subject.txt", context).split())
    body = render_to_string(f"email/{name}.txt", context).strip() + "\n"
    return subject, body
