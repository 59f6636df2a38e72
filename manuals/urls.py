app_name = "manuals"

urlpatterns: list = []
