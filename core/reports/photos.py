"""Photos attached to a report: checked, stripped of metadata, stored as files.

A phone photo carries EXIF data — where it was taken to the metre, the phone's make, model
and serial, sometimes the owner's name — which could identify the reporter to anyone who
opens the picture. Every photo is therefore decoded and written anew without metadata (its
orientation applied first), which also proves it is an image of an accepted type: the name's
extension and the decoded content must agree (ASVS 5.2.2). Stored names are generated, never
the uploaded ones (which may carry a name, too).
"""

import io
import re
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text

MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is refused before decoding

#: Pillow format → (media type, stored extension, extensions accepted in the uploaded name).
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg", (".jpg", ".jpeg")),
    "PNG": ("image/png", ".png", (".png",)),
    "WEBP": ("image/webp", ".webp", (".webp",)),
}
ACCEPTED = sorted({ext for _, _, exts in FORMATS.values() for ext in exts})


@dataclass(frozen=True)
class Photo:
    """An uploaded photo: the name it came with and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class CleanPhoto:
    """A photo re-encoded without metadata."""

    media_type: str
    extension: str
    content: bytes


def _error(index: int, rule: str, zh: str, en: str) -> FieldError:
    return FieldError(f"photos.{index}", rule, text(zh, en))


def clean(index: int, photo: Photo) -> CleanPhoto | FieldError:
    """The photo re-encoded without metadata, or the rule it breaks."""
    if not photo.content:
        return _error(index, "empty", "照片为空", "The photo is empty")
    if len(photo.content) > MAX_PHOTO_BYTES:
        mb = MAX_PHOTO_BYTES // 1024 // 1024
        return _error(index, "too_large", f"照片超过 {mb} MB", f"The photo exceeds {mb} MB")
    extension = "." + photo.name.rsplit(".", 1)[-1].lower() if "." in photo.name else ""
    if extension not in ACCEPTED:
        return _error(
            index,
            "extension",
            f"只接受 {'、'.join(ACCEPTED)} 格式的照片",
            f"Only {', '.join(ACCEPTED)} photos are accepted",
        )
    try:
        with Image.open(io.BytesIO(photo.content)) as image:
            kind = FORMATS.get(image.format or "")
            if kind is None or extension not in kind[2]:
                return _error(
                    index,
                    "type",
                    "照片内容与文件类型不符",
                    "The photo's content does not match its file type",
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                return _error(
                    index, "too_many_pixels", "照片像素过多", "The photo has too many pixels"
                )
            upright = ImageOps.exif_transpose(image)
            if image.format == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            buffer = io.BytesIO()
            # No exif, no icc_profile, no comments: only the pixels are written.
            upright.save(buffer, format=image.format, quality=85)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return _error(index, "unreadable", "无法读取照片", "The photo cannot be read")
    media_type, stored_extension, _ = kind
    return CleanPhoto(media_type, stored_extension, buffer.getvalue())


def clean_all(photos: list[Photo]) -> list[CleanPhoto]:
    """Every photo cleaned, or one refusal naming each photo that breaks a rule.

    Raises:
        DomainError: too many photos, or any photo refused (400, field ``photos.<n>``).
    """
    if len(photos) > MAX_PHOTOS:
        message = text(f"最多 {MAX_PHOTOS} 张照片", f"At most {MAX_PHOTOS} photos")
        raise DomainError(
            message, "validation_failed", 400, [FieldError("photos", "too_many", message)]
        )
    results = [clean(index, photo) for index, photo in enumerate(photos)]
    errors = [result for result in results if isinstance(result, FieldError)]
    if errors:
        raise DomainError(
            text("照片未通过检查", "A photo was refused"), "validation_failed", 400, errors
        )
    return [result for result in results if isinstance(result, CleanPhoto)]


def store(session: Session, report_id: int, unit_path: str, photos: list[CleanPhoto]) -> list[int]:
    """Store the photos as files of the report's handling unit; return their ids.

    The files name no creator: the reporter is known to the report alone, where it is
    a sensitive field.
    """
    ids = []
    for number, photo in enumerate(photos, start=1):
        stored = StoredFile(
            name=f"report-{report_id}-{number}{photo.extension}",
            media_type=photo.media_type,
            content=photo.content,
            size=len(photo.content),
            unit_path=unit_path,
        )
        session.add(stored)
        session.flush()
        ids.append(stored.id)
    return ids


def safe_name(name: str | None) -> str:
    """An uploaded file's name reduced to what extension checks need."""
    return re.sub(r"[\\/\x00-\x1f]", "_", name or "photo")[-120:]
