"""Ticket attachments: checked for size and type, stored outside the web root under
generated names, and read back only through a view that checks who may see the ticket."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from portal import unit_of_work

CHUNK = 64 * 1024
# File signatures: the content must match the extension it claims.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
TEXT_TYPES = {"txt", "log", "csv", "json"}
CONTENT_TYPES = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "pdf": "application/pdf", "zip": "application/zip",
    "txt": "text/plain", "log": "text/plain", "csv": "text/csv", "json": "application/json",
}
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class AttachmentError(ValueError):
    """An upload broke a rule; the message is safe to show."""


@dataclass
class Upload:
    filename: str
    stream: BinaryIO


@dataclass
class Stored:
    original_name: str
    stored_name: str
    content_type: str
    size: int
    sha256: str


def storage_dir() -> Path:
    configured = current_app.config.get("ATTACHMENTS_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def _clean_name(filename: str) -> str:
    name = os.path.basename(filename.replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name[-200:] or "attachment"


def _matches_type(ext: str, head: bytes) -> bool:
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in TEXT_TYPES:
        return b"\x00" not in head
    return any(head.startswith(sig) for sig in SIGNATURES.get(ext, (b"",)))


def store_all(uploads: Iterable[Upload]) -> list[Stored]:
    """Check and save every upload, or save none (files already written are removed).

    The files live and die with the open database transaction: if it rolls back (an
    error anywhere in the request, see portal.unit_of_work) they are deleted."""
    config = current_app.config
    uploads = [u for u in uploads if u.filename]
    if len(uploads) > config["ATTACHMENT_MAX_FILES"]:
        raise AttachmentError(f"Attach at most {config['ATTACHMENT_MAX_FILES']} files.")
    stored: list[Stored] = []
    try:
        for upload in uploads:
            stored.append(_store_one(upload))
    except Exception:
        remove([s.stored_name for s in stored])
        raise
    if stored:
        names = [s.stored_name for s in stored]
        unit_of_work.on_rollback(lambda: remove(names))
    return stored


def _store_one(upload: Upload) -> Stored:
    config = current_app.config
    name = _clean_name(upload.filename)
    ext = _extension(name)
    allowed = [t.lower() for t in config["ATTACHMENT_TYPES"]]
    if ext not in allowed or ext not in CONTENT_TYPES:
        raise AttachmentError(f"“{name}” is not a file type we accept. Use one of: "
                              f"{', '.join(allowed)}.")
    limit = config["ATTACHMENT_MAX_BYTES"]
    stored_name = secrets.token_hex(16)
    target = storage_dir() / stored_name
    partial = target.with_suffix(".part")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(partial, "xb") as out:
            while chunk := upload.stream.read(CHUNK):
                if not head:
                    head = chunk[:16]
                size += len(chunk)
                if size > limit:
                    raise AttachmentError(f"“{name}” is larger than the "
                                          f"{limit // (1024 * 1024)} MB limit.")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise AttachmentError(f"“{name}” is empty.")
        if not _matches_type(ext, head):
            raise AttachmentError(f"“{name}” does not look like a .{ext} file.")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Stored(name, stored_name, CONTENT_TYPES[ext], size, digest.hexdigest())


def path_of(stored_name: str) -> Path | None:
    if not stored_name.isalnum():
        return None
    path = storage_dir() / stored_name
    return path if path.is_file() else None


def remove(stored_names: Iterable[str]) -> None:
    """Delete stored files (used when the ticket they belonged to could not be saved)."""
    for name in stored_names:
        if name.isalnum():
            (storage_dir() / name).unlink(missing_ok=True)
