"""The only template tags rule messages may use: those that shape text from the values given.

Tags that reach outside the message (``url``, ``include``, ``extends``, ``load``, ``csrf_token``,
``debug``) are left out, so a message can neither fail on a missing view nor show internals.
"""

from django.template import Library, defaulttags

register = Library()

for name in ("if", "for", "with", "firstof", "spaceless", "comment", "filter", "now", "cycle"):
    register.tag(name, defaulttags.register.tags[name])
