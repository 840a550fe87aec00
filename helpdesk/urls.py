from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk import views

# The init script comes from a URL of its own (the split view), so the page needs no inline
# script under the Content-Security-Policy.
api_docs = SpectacularSwaggerSplitView.as_view(
    url_name="schema", template_name="api/swagger_ui.html"
)
if not settings.API_DOCS_PUBLIC:
    api_docs = login_required(api_docs)

urlpatterns = [
    path("", views.home, name="home"),
    path("nav/counts/", views.nav_counts, name="nav-counts"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("monitoring.urls")),
    # Pages without our base template (the admin, the API docs) still get the icon.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("", include("tickets.urls")),
    path("", include("routing.urls")),
    path("", include("queues.urls")),
    path("", include("conversations.urls")),
    path("", include("portal.urls")),
    path("", include("customers.urls")),
    path("", include("insights.urls")),
    # The admin's pages of models that moved from routing to an app of their own, for bookmarks.
    re_path(
        r"^admin/routing/(?P<model>notification|followuptask)/(?P<rest>.*)$",
        views.moved_admin_page,
        {"app": "queues"},
    ),
    re_path(
        r"^admin/routing/(?P<model>emaildelivery|webhook|webhookdelivery)/(?P<rest>.*)$",
        views.moved_admin_page,
        {"app": "deliveries"},
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
