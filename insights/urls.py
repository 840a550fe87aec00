from django.urls import path

from insights.views import root_causes

urlpatterns = [
    path("insights/root-causes/", root_causes.root_causes, name="insights-root-causes"),
    path(
        "insights/root-causes/<str:cause>/",
        root_causes.root_cause_tickets,
        name="insights-root-cause-tickets",
    ),
]
