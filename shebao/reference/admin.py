"""Back office: the reference data, editable by staff."""

from django.contrib import admin

from shebao.reference.models import City, InsuranceType


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("division_code", "name", "is_region_level")


@admin.register(InsuranceType)
class InsuranceTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "person_type", "collection_item", "collection_subitem", "default_rate")
