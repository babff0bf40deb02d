"""Atomic writes: a file is written to a temporary file in the same folder and renamed; a run
directory is written to a temporary directory beside it and swapped in whole. Files and
directories get the modes the process's umask gives (temporary files are created 0600)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import SimError

__all__ = ["atomic_write", "fresh_directory", "memory_available", "umask", "write_json"]


def memory_available() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def umask() -> int:
    """The process's file mode creation mask (read without changing it where the OS allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(old)
    return old


@contextlib.contextmanager
def fresh_directory(out: str | Path) -> Iterator[Path]:
    """Write a directory whole or not at all.

    Yields a new temporary directory beside ``out``; when the block ends without an error it
    replaces ``out`` (whatever ``out`` held before is removed, so nothing of an earlier run stays
    beside the new files); on an error or an interrupt it is removed and ``out`` is left as it was.
    Two writers of the same ``out`` never mix their files: the last to finish wins.

    Raises
    ------
    SimError
        If ``out`` is an existing file, or its parent cannot be created or written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SimError(f"{out} is a file, not a directory; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise SimError(f"cannot write in {out.parent}: {exc.strerror or exc}; choose another --out") from None
    tmp.chmod(0o777 & ~umask())
    try:
        yield tmp
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: Age after which a leftover temporary directory beside ``out`` (from a killed writer) is removed.
STALE_SECONDS = 3600


def _remove_stale(out: Path) -> None:
    """Remove temporary directories a killed writer left beside ``out`` (older than an hour, so
    that a writer still at work is left alone)."""
    now = time.time()
    for pattern in (f".{out.name}.*.tmp", f".{out.name}.old-*"):
        for leftover in out.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if leftover.is_dir() and now - leftover.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(leftover, ignore_errors=True)


def _swap(tmp: Path, out: Path) -> None:
    """Put ``tmp`` in place of ``out`` with renames (a concurrent writer may swap in between)."""
    for _ in range(20):
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            with contextlib.suppress(FileNotFoundError):
                os.rename(out, old)
        try:
            os.rename(tmp, out)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    raise SimError(f"could not replace {out}: another process keeps writing it")


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then move the result to ``path`` in one rename.

    An interrupted write leaves ``path`` as it was (absent or the old file),
    never half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~umask())  # mkstemp creates 0600
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, data: dict[str, Any]) -> Path:
    """Atomically write ``data`` as indented, key-sorted JSON."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"

    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    return atomic_write(path, write)
