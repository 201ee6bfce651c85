from django.urls import path

from .views import UploadView, serve

urlpatterns = [
    path("upload", UploadView.as_view(), name="images-upload"),
    # The original's URL through the gateway, then the image service's own path: serve both.
    path("images/<path:filename>", serve, name="images-serve"),
    path("<path:filename>", serve, name="images-serve-short"),
]
