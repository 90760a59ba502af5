"""Back-office building block: a read-only admin (staff look, services write)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and details only; no add, change or delete from the back office."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
