from django.urls import path

from insights.views import root_causes, time_to_fix

urlpatterns = [
    path("insights/root-causes/", root_causes.root_causes, name="insights-root-causes"),
    path("insights/time-to-fix/", time_to_fix.time_to_fix_page, name="insights-time-to-fix"),
    path(
        "insights/root-causes/<str:cause>/",
        root_causes.root_cause_tickets,
        name="insights-root-cause-tickets",
    ),
]
