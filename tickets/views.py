"""HTML pages of tickets."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from tickets.selectors import tickets_list, timeline_for


@login_required
def ticket_detail(request, pk: int):
    ticket = get_object_or_404(tickets_list(), pk=pk)
    context = {"ticket": ticket, "timeline": timeline_for(ticket=ticket)}
    return render(request, "tickets/ticket_detail.html", context)
