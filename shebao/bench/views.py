"""The reference endpoints of the benchmark (``shebao.bench.urls`` only).

* ``one_query`` — the baseline: the cheapest useful Django request in this service, the full
  middleware stack (as an anonymous visitor, so no session read) and one indexed SELECT
  through the ORM (a city by its unique division code).
* ``signed_in`` — the floor of every page a payer sees: the same middleware as a signed-in
  payer (session, account), the site's frame (``base.html``, its CSRF token and context
  processors) around one line of text, and no business query. Whatever a flow page costs
  beyond this is the page's own work."""

from django.http import JsonResponse
from django.shortcuts import render

from shebao.accounts.views import citizen_required
from shebao.reference.models import City


def one_query(request):
    name = City.objects.filter(division_code="450100").values_list("name", flat=True).first()
    return JsonResponse({"name": name})


@citizen_required
def signed_in(request):
    return render(request, "bench/signed_in.html")
