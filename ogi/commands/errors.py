"""The CLI's one-line errors: :class:`BadInput` (exit 2) for a bad path, database, port, option or config."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import click


class BadInput(click.ClickException):
    """A path, database, port, option or config the command cannot use: one clear line on stderr, exit 2."""

    exit_code = 2


def open_output(path: Path, *, binary: bool = False) -> IO[Any]:
    """Given an output path, return it opened for writing; BadInput (one line) when it cannot be created."""
    try:
        if binary:
            return path.open("wb")
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise BadInput(f"{path}: cannot write: {exc.strerror or exc}") from None


def open_readonly(db: str | Path) -> Any:
    """Given the --db of a read command, return the archive opened read-only (nothing created, migrated or
    written); BadInput when it is missing, a directory, empty, not an archive or of another schema version."""
    from archive import ArchiveError, open_archive

    try:
        return open_archive(db, readonly=True)
    except ArchiveError as exc:
        raise BadInput(str(exc)) from None


def check_listen(host: str, port: int) -> None:
    """Given the interface and port a server will listen on, raise BadInput (one line) when it cannot bind
    there now (port in use, no such address), instead of the server's own error after start-up."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadInput(f"--host {host}: not an address of this machine ({exc})") from None
    family, kind, proto, _name, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
