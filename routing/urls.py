from django.urls import path

from routing.views import rules

urlpatterns = [
    path("tickets/<int:pk>/why/", rules.ticket_routing, name="ticket-why"),
    path("rules/", rules.rule_list, name="rules-page"),
    path("rules/new/", rules.rule_editor, name="rule-new"),
    path("rules/<int:pk>/", rules.rule_editor, name="rule-edit"),
]
