"""The survey's page: the score chosen in the email is only shown on GET (a link scanner opening
every link records nothing); the answer is recorded by the POST of the page's form."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.forms import SurveyForm
from portal.views.pages import portal_page
from surveys.links import survey_for_token
from surveys.services import survey_answer, survey_may_answer

SCORES = {str(score) for score in range(11)}


@require_http_methods(["GET", "HEAD", "POST"])
@portal_page()
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    survey = survey_for_token(token)
    if survey is None:
        raise Http404("No such survey.")
    refusal = survey_may_answer(survey)
    context = {"survey": survey, "ticket": survey.ticket, "refusal": refusal}
    if request.method == "POST" and not refusal:
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                survey_answer(
                    survey=survey,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect(reverse("portal-survey", args=[token]) + "?thanks=1")
        return render(request, "portal/survey.html", {**context, "form": form}, status=400)
    initial = {"comment": survey.comment}
    chosen = request.GET.get("score", "")
    if chosen in SCORES:
        initial["score"] = int(chosen)
    elif survey.score is not None:
        initial["score"] = survey.score
    return render(
        request,
        "portal/survey.html",
        {
            **context,
            "form": SurveyForm(initial=initial),
            "thanks": request.GET.get("thanks") == "1" and survey.score is not None,
        },
        status=410 if refusal and survey.score is None else 200,
    )
