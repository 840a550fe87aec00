import pytest

from insights.selectors import flow, money, time_to_fix


@pytest.fixture(params=["in the database", "in Python"])
def computed(request, monkeypatch):
    """Every figure twice: as PostgreSQL computes it, and as the embedded SQLite install's
    fallback does, which must agree. Used by a test module with
    ``pytestmark = pytest.mark.usefixtures("computed")``."""
    if request.param == "in Python":
        for module in (flow, money, time_to_fix):
            monkeypatch.setattr(module, "in_database", lambda queryset: False)
    return request.param
