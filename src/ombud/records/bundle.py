"""The package as a zip: every file, a manifest of their SHA-256, and checking a zip against its manifest; pure.

The manifest (`manifest.json`) lists each file's path, size and SHA-256. Its own SHA-256 is what the audit log
records, so one hash pins every byte of the package. The zip is deterministic: entries in a fixed order with the
package's own time, so the same records give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "ombud-records-manifest/1"
MAX_ENTRIES = 200
MAX_UNPACKED_BYTES = 2 * 1024**3  # refuse zip bombs when checking a file someone hands us


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: dict[str, bytes], meta: dict[str, Any]) -> bytes:
    """The manifest of these files (sorted by path), with the package's description."""
    document = {
        "format": MANIFEST_FORMAT,
        "package": meta,
        "files": [{"path": path, "bytes": len(data), "sha256": sha256_hex(data)}
                  for path, data in sorted(files.items())],
    }
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode()


def build_zip(files: dict[str, bytes], meta: dict[str, Any], at: datetime) -> tuple[bytes, str]:
    """The zip (files, then the manifest) and the manifest's SHA-256."""
    manifest = manifest_bytes(files, meta)
    stamp = (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path, data in [*sorted(files.items()), (MANIFEST, manifest)]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue(), sha256_hex(manifest)


@dataclass
class ZipCheck:
    """What checking a zip against its own manifest found."""

    manifest_sha256: str | None = None
    package: dict[str, Any] = field(default_factory=dict)
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.manifest_sha256 is not None


def check_zip(data: bytes) -> ZipCheck:
    """Every file of the zip against the manifest inside it: same set of files, same sizes, same SHA-256."""
    result = ZipCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        result.problems.append("not a zip file")
        return result
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            result.problems.append("the zip is larger than any records package")
            return result
        names = [i.filename for i in infos]
        if MANIFEST not in names:
            result.problems.append("no manifest.json in the zip")
            return result
        if len(set(names)) != len(names):
            result.problems.append("the zip holds a file name twice")
        try:
            manifest_raw = archive.read(MANIFEST)
            manifest = json.loads(manifest_raw)
        except (ValueError, zipfile.BadZipFile, KeyError) as exc:
            result.problems.append(f"manifest.json is unreadable: {exc}")
            return result
        result.manifest_sha256 = sha256_hex(manifest_raw)
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            result.problems.append("manifest.json is not an Ombud records manifest")
            return result
        result.package = manifest.get("package") or {}
        listed = {entry.get("path"): entry for entry in manifest.get("files", []) if isinstance(entry, dict)}
        present = set(names) - {MANIFEST}
        for path in sorted(present - set(listed)):
            result.problems.append(f"{path}: in the zip but not in the manifest")
        for path in sorted(set(listed) - present):
            result.problems.append(f"{path}: in the manifest but missing from the zip")
        for path in sorted(present & set(listed)):
            try:
                content = archive.read(path)
            except (zipfile.BadZipFile, OSError) as exc:  # a damaged entry fails its CRC check
                result.problems.append(f"{path}: unreadable ({exc})")
                continue
            entry = listed[path]
            if sha256_hex(content) != entry.get("sha256") or len(content) != entry.get("bytes"):
                result.problems.append(f"{path}: its SHA-256 differs from the manifest (the file was changed)")
            result.files_checked += 1
    return result
