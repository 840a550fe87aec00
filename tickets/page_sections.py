"""Sections other apps add to the ticket page (the reply composer of the conversations app),
without tickets importing them: a template and a function giving its context for the request
and ticket, registered in the app's ``AppConfig.ready()``."""

from collections.abc import Callable
from dataclasses import dataclass

Context = Callable[..., dict | None]


@dataclass(frozen=True)
class Section:
    name: str
    template: str
    context: Context


_sections: dict[str, Section] = {}


def ticket_page_section_register(*, name: str, template: str, context: Context) -> None:
    _sections[name] = Section(name, template, context)


def sections_for(request, ticket, forms: dict) -> list[dict]:
    """The registered sections with their context (``forms`` holds a refused form to show
    again, by section name); a section whose context is None is left out."""
    shown = []
    for section in _sections.values():
        context = section.context(request=request, ticket=ticket, form=forms.get(section.name))
        if context is not None:
            shown.append({"name": section.name, "template": section.template, **context})
    return shown


# Facts other apps add to the ticket's facts panel (the queues' response targets), the same
# way: a template of <dt>/<dd> pairs and its context. They are shown on the page and in its
# live refresh (``ticket-live``), so a department taking the ticket on shows at once.
_facts: dict[str, Section] = {}


def ticket_page_facts_register(*, name: str, template: str, context: Context) -> None:
    _facts[name] = Section(name, template, context)


def facts_for(request, ticket) -> list[dict]:
    """The registered facts with their context; one whose context is None is left out."""
    shown = []
    for fact in _facts.values():
        context = fact.context(request=request, ticket=ticket)
        if context is not None:
            shown.append({"name": fact.name, "template": fact.template, **context})
    return shown
