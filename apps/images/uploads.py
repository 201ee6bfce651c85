"""A Django upload handler that refuses an oversized upload while it streams in.

It goes first in ``request.upload_handlers``: a declared ``Content-Length`` above the limit (plus
room for the multipart envelope) is refused before one byte of the body is read, and a body that
grows past the limit (chunked, or a lying length) is refused at the chunk that crosses it, so an
upload never fills the memory or the disk beyond the limit.
"""

from django.core.files.uploadhandler import FileUploadHandler

from ecommerce.errors import BadRequest

# Room for the multipart boundaries, part headers and a few small form fields.
ENVELOPE_BYTES = 64 * 1024


def too_large(limit):
    # 400, not 413: the original (multer's LIMIT_FILE_SIZE) answered 400 "File too large".
    return BadRequest(f"File too large. The maximum size is {limit // (1024 * 1024)} MB.", extra={"status": "error"})


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None, *, limit):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        if content_length and content_length > self.limit + ENVELOPE_BYTES:
            raise too_large(self.limit)
        return None  # let the next handlers parse

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(self.limit)
        return raw_data  # pass the chunk on to the memory / temporary-file handler

    def file_complete(self, file_size):
        return None  # the next handler builds the file object
