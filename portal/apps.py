from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer's side on the web: the request form, the pages of a contact's requests
    (reached by a signed link, no account), and the satisfaction survey's page.

    Everything the portal does goes through the apps below it (conversations for messages,
    tickets for status, surveys for answers); nothing imports the portal.
    """

    name = "portal"
    verbose_name = "Customer portal"
