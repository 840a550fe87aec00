"""The routing rule language: fields, operators, actions, validation and evaluation.

To add a condition field, register it in ``fields.py``; an operator, in ``operators.py``; an
action, in ``actions.py`` (a validator and a performer). ``validation.py`` and
``conditions.py`` pick them up from those registries.
"""
