from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("", views.results, name="results"),
    path("rebuild/", views.rebuild, name="rebuild"),
    path("status/", views.status, name="status"),
    path("manual/<int:manual_id>/find/", views.find, name="find_in_manual"),
    path("fold.json", views.fold_table, name="fold_table"),
]
