"""HTTP edge of the images app: the upload (staff only) and public serving of stored files."""

from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.auth.permissions import Has
from ecommerce.errors import BadRequest, NotFound
from ecommerce.parsers import JSONParser

from .. import services
from ..uploads import SizeLimitUploadHandler

NO_FILE = 'No image file provided in the "imageFile" form field.'
CACHE_CONTROL = "public, max-age=31536000, immutable"  # names are random and never reused


class UploadRequestSerializer(serializers.Serializer):
    imageFile = serializers.ImageField()  # noqa: N815 - the contract's field name


class UploadResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    filename = serializers.CharField()
    imageUrl = serializers.CharField()  # noqa: N815
    thumbnailUrl = serializers.CharField()  # noqa: N815
    mimetype = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class UploadView(APIView):
    permission_classes = [Has("update:product")]
    # JSON and form bodies are accepted only to answer "no image file" instead of 415.
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": UploadRequestSerializer},
        responses={
            201: UploadResponseSerializer,
            400: OpenApiResponse(
                description="no file, not an allowed image, too many pixels, "
                "file larger than IMAGE_MAX_UPLOAD_BYTES (File too large...)"
            ),
        },
        summary="Upload a product image (JPEG, PNG, GIF, WebP; re-encoded without metadata)",
    )
    def post(self, request):
        django_request = request._request
        django_request.upload_handlers = [
            SizeLimitUploadHandler(django_request, limit=services.max_upload_bytes()),
            MemoryFileUploadHandler(django_request),
            TemporaryFileUploadHandler(django_request),
        ]
        uploaded = request.FILES.get("imageFile")
        if uploaded is None:
            raise BadRequest(NO_FILE, extra={"status": "error"})
        stored = services.store_upload(uploaded)
        return Response(stored.as_response(), status=201)


def _json(status, message):
    return JsonResponse({"message": message}, status=status)


def serve(request, filename):
    """``GET /images/images/<filename>`` and ``GET /images/<filename>``: public, cacheable.

    Streams the file from the storage (local disk or S3) with a content type taken from the
    extension we chose at upload; anything not an allowed raster type goes out as an
    ``application/octet-stream`` attachment, never inline.
    """
    if request.method not in ("GET", "HEAD"):
        response = _json(405, f"Method {request.method} not allowed.")
        response["Allow"] = "GET, HEAD"
        return response
    try:
        opened = services.open_image(filename)
    except NotFound as exc:
        return _json(404, str(exc.detail))

    headers = {
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    timestamp = int(opened.modified.timestamp()) if opened.modified else None
    if opened.size is not None and timestamp is not None:
        headers["ETag"] = f'"{opened.size:x}-{timestamp:x}"'
    if timestamp is not None:
        headers["Last-Modified"] = http_date(timestamp)

    not_modified = get_conditional_response(request, etag=headers.get("ETag"), last_modified=timestamp)
    if not_modified is not None or request.method == "HEAD":
        opened.file.close()
        response = not_modified or HttpResponse(content_type=opened.content_type)
        if not_modified is None and opened.size is not None:
            response["Content-Length"] = str(opened.size)
    else:
        response = FileResponse(
            opened.file,
            content_type=opened.content_type,
            as_attachment=not opened.inline,
            filename=opened.filename,
        )
        if opened.size is not None:
            response["Content-Length"] = str(opened.size)
    if not opened.inline and not_modified is None and request.method == "HEAD":
        response["Content-Disposition"] = f'attachment; filename="{opened.filename}"'
    for name, value in headers.items():
        response[name] = value
    return response
