"""Files that hold members' names, emails and birthdays are readable by their owner only.

The one place that decides how loyaltyctl creates a file or a folder: the SQLite database (its -wal and
-shm take the main file's mode), backups, statements, reject files and what `-o` writes are created 0600,
the folders made for them 0700, so other users of a shared machine cannot read them, whatever the umask.
A file that already exists and is written over in place keeps the mode its owner gave it.
"""

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _open_private(path: str | os.PathLike, flags: int) -> int:
    return os.open(path, flags, FILE_MODE)


def create_file(path: Path) -> None:
    """A new, empty file (for SQLite to open as a new database); FileExistsError when there is one."""
    os.close(_open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))


def write_file(path: Path, content: str | bytes) -> None:
    """Write `content` (text as UTF-8) to `path`, in place."""
    with open(path, "wb", opener=_open_private) as out:
        out.write(content.encode("utf-8") if isinstance(content, str) else content)


def temp_file(folder: Path, prefix: str, suffix: str = "") -> tuple[int, str]:
    """A new temporary file in `folder` (its descriptor and path), to be moved into place with os.replace."""
    import tempfile  # not at start-up: every command loads this module (through render), few write a file

    return tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)  # 0600 by construction


def replace_file(path: Path, content: str | bytes) -> None:
    """Write next to `path` and rename over it: a reader never sees half a file."""
    handle, temp = temp_file(path.parent, f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def make_folder(path: Path) -> None:
    """`path` and any of its parents that are missing, each 0700; folders that exist are left as they are."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
