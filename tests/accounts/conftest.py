import pytest


@pytest.fixture(autouse=True)
def _token_cache_off_where_a_token_is_aged_in_place(request, settings):
    # This test ages a token with QuerySet.update(), a write that sends no signal: by design the
    # token cache would accept the token until its entry expires (API_TOKEN_CACHE_SECONDS), so
    # the test checks the database's answer. test_token_cache.py checks that an expired token
    # is refused through the cache too, as time passes.
    if request.node.name == "test_a_token_expires_and_a_new_one_is_then_issued":
        settings.API_TOKEN_CACHE_SECONDS = 0
