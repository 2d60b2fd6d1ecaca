"""Write an output file safely: the one helper every command that writes files goes through.

- Nothing the user has is replaced without `--force`; a dangling symlink counts as something
  there (writing through it would create a file wherever it points).
- Only regular files are ever replaced, even with `--force`: never a directory, a device
  (`/dev/full`), a pipe or a socket.
- The text goes to a temporary file in the target's folder, then replaces the target in one
  step (`os.replace`), so an interrupted write never leaves half a file; the temporary file is
  removed on any failure. A symlink at the target is replaced by the new file, not followed.
- The file gets the usual mode (0666 less the umask), like any file the user creates, not the
  0600 of `tempfile.mkstemp`.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from parley.core.errors import ParleyInputError, Problem

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def check_target(path: str | Path | None, force: bool, option: str = "--output") -> None:
    """Refuse to write to `path` unless it is free, or a regular file and `force` is given."""
    if path is None:
        return
    target = Path(path)
    if not os.path.lexists(target):
        return
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:  # a symlink to nothing
        if not force:
            raise ParleyInputError([Problem(option, f"'{path}' is a symlink to a missing file",
                                            "choose another name, or pass --force to replace "
                                            "the link")]) from None
        return
    except OSError as exc:
        raise ParleyInputError([Problem(option, f"cannot use '{path}': {exc.strerror}",
                                        "choose another name")]) from None
    for test, kind in _KINDS:
        if test(mode):
            raise ParleyInputError([Problem(option, f"'{path}' is {kind}, not a file",
                                            "name a file to write (parley never replaces "
                                            "anything but a regular file)")])
    if not force:
        raise ParleyInputError([Problem(option, f"'{path}' already exists",
                                        "choose another name, or pass --force to overwrite it")])


def write_output(path: str | Path, data: str | bytes, force: bool, option: str = "--output") -> None:
    """Write `data` (text as UTF-8) to `path` after `check_target`, atomically."""
    check_target(path, force, option)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    tmp = folder / f".{target.name[:100]}.{secrets.token_hex(4)}.tmp"
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    except OSError as exc:
        raise ParleyInputError([Problem(option, f"cannot write '{path}': {exc.strerror}",
                                        "choose a writable folder")]) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        check_target(path, force, option)  # nothing became a directory or device meanwhile
        os.replace(tmp, target)
    except OSError as exc:
        raise ParleyInputError([Problem(option, f"cannot write '{path}': {exc.strerror}",
                                        "choose a writable location")]) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_figure(fig: Any, path: str | Path, force: bool, option: str = "--plot", **kwargs: Any) -> None:
    """Save a matplotlib figure through `write_output` (format from the file's suffix)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=Path(path).suffix.lstrip(".").lower() or "png", **kwargs)
    write_output(path, buf.getvalue(), force, option)
