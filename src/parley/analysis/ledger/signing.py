"""Optional SSH signatures on ledger entries (`ssh-keygen -Y sign`), so an entry can be shown to
come from the holder of a key as well as to be unaltered."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from parley.core.errors import ParleyInputError, Problem

NAMESPACE = "parley-ledger"


def _ssh_keygen(option: str) -> str:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise ParleyInputError(
            [
                Problem(
                    option,
                    "ssh-keygen was not found",
                    "install OpenSSH (Debian: apt-get install openssh-client)",
                )
            ]
        )
    return exe


def sign(body: dict[str, Any], book: Any, key: str | Path) -> dict[str, Any]:
    """`body` with a `signature` over the hash it will have once chained into `book`."""
    from parley.analysis.ledger.chain import entry_hash

    exe = _ssh_keygen("--sign")
    key_path = Path(key).expanduser()
    if not key_path.is_file():
        raise ParleyInputError(
            [Problem("--sign", f"no key file at {key}", "give the path of a private SSH key")]
        )
    digest = entry_hash(book.chained(body))
    with tempfile.TemporaryDirectory() as tmp:
        msg = Path(tmp) / "entry"
        msg.write_text(digest, encoding="utf-8")
        done = subprocess.run(
            [exe, "-Y", "sign", "-f", str(key_path), "-n", NAMESPACE, str(msg)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        if done.returncode != 0:
            raise ParleyInputError(
                [
                    Problem(
                        "--sign",
                        f"ssh-keygen could not sign: {done.stderr.strip()}",
                        "use an unencrypted key or load it into ssh-agent",
                    )
                ]
            )
        signature = (Path(tmp) / "entry.sig").read_text(encoding="utf-8")
    return dict(body, signature=signature)


def check(entry: dict[str, Any]) -> str | None:
    """None when the entry's signature is a valid signature of its hash (by any key: the
    signer's identity is checked with `ssh-keygen -Y verify` against allowed signers, which is
    the user's business); else what is wrong."""
    exe = shutil.which("ssh-keygen")
    if exe is None:
        return "cannot check the signature: ssh-keygen not found"
    with tempfile.TemporaryDirectory() as tmp:
        sig = Path(tmp) / "entry.sig"
        sig.write_text(str(entry["signature"]), encoding="utf-8")
        done = subprocess.run(
            [exe, "-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)],
            input=str(entry["hash"]),
            capture_output=True,
            text=True,
            timeout=60,
        )
    return None if done.returncode == 0 else "its signature does not match its content"
