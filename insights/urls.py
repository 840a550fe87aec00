"""Each report's module names its own URLs; this puts them together."""

from insights.views import exports, flow, market, money, root_causes, sales, time_to_fix

urlpatterns = [
    *root_causes.urlpatterns,
    *time_to_fix.urlpatterns,
    *flow.urlpatterns,
    *market.urlpatterns,
    *money.urlpatterns,
    *sales.urlpatterns,
    *exports.urlpatterns,
]
