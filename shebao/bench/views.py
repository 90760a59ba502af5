"""The baseline of the benchmark: the cheapest useful Django request in this service —
the full middleware stack (as an anonymous visitor, so no session read) and one
indexed SELECT through the ORM (a city by its unique division code)."""

from django.http import JsonResponse

from shebao.core.models import City


def one_query(request):
    name = City.objects.filter(division_code="450100").values_list("name", flat=True).first()
    return JsonResponse({"name": name})
