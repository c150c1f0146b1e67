"""Ed25519 audit signing key: load or create once, mode 0600, refuse looser files.

Path: the explicit argument, else $CASESTREAM_AUDIT_KEY, else
`.run/keys/audit_ed25519.pem` (relative to the working directory).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ENV_VAR = "CASESTREAM_AUDIT_KEY"
DEFAULT_KEY_PATH = Path(".run/keys/audit_ed25519.pem")


class KeyFileError(Exception):
    """A key file that cannot be used (bad permissions, not Ed25519, unreadable)."""




def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_KEY_PATH


def _check_permissions(p: Path) -> None:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"{p}: the signing key must be a regular file (not a link or a directory)")
    if st.st_mode & 0o077:
        raise KeyFileError(
            f"{p}: permissions {stat.S_IMODE(st.st_mode):04o} are too open; the signing key must be 0600 "
            f"(run: chmod 600 {p})"
        )


def load_signing_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey:
    p = key_path(path)
    _check_permissions(p)
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{p}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{p}: not an Ed25519 key ({type(key).__name__})")
    return key


def load_or_create_signing_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey:
    """Load the key at `path`; create it (0600, parents 0700) if it does not exist yet."""
    p = key_path(path)
    if not os.path.lexists(p):
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return load_signing_key(p)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(p, 0o600)  # in case the umask was unusual
    return load_signing_key(p)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    try:
        pub = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:  # a flipped OID bit gives UnsupportedAlgorithm
        raise KeyFileError(f"not a PEM public key ({e})") from None
    if not isinstance(pub, Ed25519PublicKey):
        raise KeyFileError(f"not an Ed25519 public key ({type(pub).__name__})")
    return pub


def public_key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """sha256 of the public key PEM file bytes (what `sha256sum public_key.pem` prints)."""
    return hashlib.sha256(public_key_pem(key)).hexdigest()
