"""Each report's module names its own URLs; this puts them together."""

from insights.views import exports, flow, root_causes, time_to_fix

urlpatterns = [
    *root_causes.urlpatterns,
    *time_to_fix.urlpatterns,
    *flow.urlpatterns,
    *exports.urlpatterns,
]
