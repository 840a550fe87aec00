"""An export a worker is writing: its progress while it is, its file when it is done. Only the
person who asked for it sees either."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from insights.export import FORMATS
from insights.models import Export

REFRESH_SECONDS = 2


def _own(request: HttpRequest, pk) -> Export:
    return get_object_or_404(Export, pk=pk, requested_by=request.user)


@login_required
@require_GET
def export_page(request: HttpRequest, pk) -> HttpResponse:
    export = _own(request, pk)
    working = export.status in (Export.Status.QUEUED, Export.Status.RUNNING)
    return render(
        request,
        "insights/export.html",
        {"export": export, "working": working, "refresh": REFRESH_SECONDS},
    )


@login_required
@require_GET
def export_download(request: HttpRequest, pk) -> FileResponse:
    export = _own(request, pk)
    if export.status != Export.Status.DONE or not export.file:
        raise Http404("This export is not ready.")
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=FORMATS.get(export.format, FORMATS["csv"])[0],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("insights/exports/<uuid:pk>/", export_page, name="insights-export"),
    path("insights/exports/<uuid:pk>/download/", export_download, name="insights-export-download"),
]
