from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ops import views as ops_views

handler400 = "ops.views.bad_request"
handler403 = "ops.views.permission_denied"
handler404 = "ops.views.page_not_found"
handler500 = "ops.views.server_error"

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("search/", include("search.urls")),
    path("print/", include("printing.urls")),
    path("", include("manuals.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
