"""Checking an uploaded evidence file by its content, not its name; pure (no database, no web).

Accepted: PDF, JPEG and PNG, up to a size limit. The type is read from the file's first bytes (and, for a PDF,
its end-of-file marker); a name ending in .pdf proves nothing. A refused file raises UploadError naming the
field, before anything is written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ACCEPTED = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_FILES = 10
_PNG = b"\x89PNG\r\n\x1a\n"
_UNSAFE = re.compile(r"[^\w .()\-]+")


class UploadError(ValueError):
    """A file that cannot be accepted; ``field`` names the form field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (PDF, JPEG or PNG), or None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return "image/jpeg"
    if data.startswith(_PNG) and data[12:16] == b"IHDR":
        return "image/png"
    return None


def clean_filename(name: str | None) -> str:
    """A file name safe to show and store: the last path part, no control characters, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFKC", base) if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:120] or "upload"


def check_file(filename: str | None, data: bytes, *, max_bytes: int, field: str) -> CheckedFile:
    """The file, accepted; or UploadError saying why (empty, too large, not a PDF, JPEG or PNG)."""
    if not data:
        raise UploadError("the file is empty", field)
    if len(data) > max_bytes:
        raise UploadError(f"the file is larger than {max_bytes // (1024 * 1024)} MB", field)
    content_type = sniff(data)
    if content_type is None:
        raise UploadError("the file is not a PDF, JPEG or PNG (we check the content, not the name)", field)
    return CheckedFile(clean_filename(filename), content_type, data)
