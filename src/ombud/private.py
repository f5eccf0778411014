"""Folders and files that hold personal data or secrets: created readable by their owner only (0700 / 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the folder and any missing parents as 0700 (folders that already exist are left as they are)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        folder.chmod(DIR_MODE)  # the umask may have narrowed the mode; it never widens it
    return path


def private_file(path: Path) -> Path:
    """Create the file empty as 0600 if it does not exist; an existing file of ours open to others is narrowed."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(FILE_MODE)
    return path
