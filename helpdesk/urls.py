from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk import views
from routing import views as routing_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tickets.urls")),
    path("tickets/<int:pk>/why/", routing_views.ticket_routing, name="ticket-why"),
    path("rules/", routing_views.rule_list, name="rule-list"),
    path("rules/new/", routing_views.rule_editor, name="rule-new"),
    path("rules/<int:pk>/", routing_views.rule_editor, name="rule-edit"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
