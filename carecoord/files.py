"""Writing files so that readers never see half of one."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from carecoord.errors import StorageError


def write_atomically(
    target: str | Path, data: bytes | Iterable[bytes], *, before_replace: Callable[[Path], None] | None = None
) -> Path | None:
    """Write ``data`` to ``target`` (``-`` for stdout) via a private temporary file and a rename.

    The previous file stays whole until the new one is complete and synced; a failure leaves no
    temporary file behind. Exports hold patient data, so the file is created 0600.
    ``before_replace(path)`` runs once the new file is complete and synced, just before it takes the
    place of the previous one (not for stdout): if it fails, the previous file stays as it was (the
    account of disclosures records the export there).
    """
    chunks = [data] if isinstance(data, bytes) else data
    if str(target) == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        return None
    path = Path(target).expanduser().absolute()
    if path.is_dir():
        raise StorageError(f"cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        raise StorageError(f"cannot write {path}: the folder {path.parent} does not exist")
    _remove_stale_temporaries(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    except OSError as error:
        raise StorageError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(data, bytes):
                file.write(data)
            else:
                _write_behind(file, chunks)
            file.flush()
            os.fsync(file.fileno())
        if before_replace is not None:
            before_replace(path)
        os.replace(temp, path)
        _sync_folder(path.parent)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {error.strerror or error}; the previous file is intact") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


WRITE_BEHIND_CHUNKS = 8  # chunks made but not yet written: a streamed export's memory stays flat


def _write_behind(file: BinaryIO, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` as they are made, the writing done by a second thread: a write lets go of the
    interpreter while the system copies the bytes and the disk catches up, so the next chunks are made
    meanwhile (an agency's FHIR export is 1.9 GB, about 6 s of writing). A failed write stops the
    making; a failure in the making stops the writing."""
    import queue
    import threading

    pending: queue.Queue[bytes | None] = queue.Queue(WRITE_BEHIND_CHUNKS)
    failed: list[Exception] = []

    def writer() -> None:
        while (chunk := pending.get()) is not None:
            if not failed:
                try:
                    file.write(chunk)
                except Exception as error:  # raised again in the making thread
                    failed.append(error)

    thread = threading.Thread(target=writer, name="write-behind", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        thread.join()
    if failed:
        raise failed[0]


STALE_AFTER_SECONDS = 600


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files a killed export left behind (not those of an export running now)."""
    import time

    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_AFTER_SECONDS:
                leftover.unlink()
        except OSError:
            pass


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
