"""API tokens: obtained with a username and password, under the same lockout as the login page."""

from rest_framework.authtoken.views import ObtainAuthToken

from helpdesk.throttles import AnonRateThrottle, UserRateThrottle


class TokenObtainView(ObtainAuthToken):
    """POST a username and password, get the account's token."""

    # DRF's view opts out of the default rate limits; this one keeps them.
    throttle_classes = [AnonRateThrottle, UserRateThrottle]

    def get_serializer_context(self):
        # django-axes marks a locked-out attempt on the request that authenticate() is given, and
        # its middleware reads the mark from Django's request: hand it that one, not DRF's
        # wrapper, so a locked-out client gets the 429 rather than a plain "wrong password".
        return {**super().get_serializer_context(), "request": self.request._request}
