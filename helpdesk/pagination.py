from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; clients may ask for up to 200 with ``page_size``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
