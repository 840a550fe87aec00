from django.urls import path

from customers.views import pages

urlpatterns = [
    path("customers/<int:pk>/", pages.customer_page, name="customer-page"),
    path("customers/<int:pk>/contacts/", pages.contact_save, name="customer-contact-add"),
    path(
        "customers/<int:pk>/contacts/<int:contact_id>/",
        pages.contact_save,
        name="customer-contact-save",
    ),
    path(
        "customers/<int:pk>/contacts/<int:contact_id>/revoke-links/",
        pages.contact_links_revoke_view,
        name="customer-contact-revoke",
    ),
    path("customers/<int:pk>/portal/", pages.portal_settings_save, name="customer-portal"),
]
