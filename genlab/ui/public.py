"""Public mode: when the app serves people other than its owner, and who may sign in.

Messages here never contain a password: they name the source and line, not the text.
"""

from pathlib import Path
from typing import List, Mapping, Tuple


class AuthError(ValueError):
    """A malformed --auth value or auth file."""


def on_space(environ: Mapping[str, str]) -> bool:
    """Hugging Face Spaces set SPACE_ID in every Space's environment."""
    return bool(environ.get("SPACE_ID"))


def is_public(environ: Mapping[str, str], share: bool = False, public: bool = False) -> bool:
    """A Space, a share link or an explicit --public: anyone may reach the app."""
    return public or share or on_space(environ)


def parse_pair(text: str, where: str) -> Tuple[str, str]:
    """'user:password' -> (user, password); the password may itself contain ':'."""
    user, colon, password = text.strip().partition(":")
    if not colon or not user.strip() or not password:
        raise AuthError(f"{where}: expected user:password with neither part empty")
    return user.strip(), password


def read_auth_file(path) -> List[Tuple[str, str]]:
    """One user:password a line; blank lines and lines starting with '#' are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err.__class__.__name__  # never the text: it holds passwords
        raise AuthError(f"cannot read auth file {path}: {reason}") from None
    pairs = [parse_pair(line, f"{path} line {number}") for number, line in enumerate(lines, 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not pairs:  # an empty list would make Gradio serve without any sign-in
        raise AuthError(f"auth file {path} has no user:password lines")
    return pairs


def credentials(auth: List[str], auth_files: List[str]) -> List[Tuple[str, str]]:
    """Every --auth value and every line of every --auth-file; duplicate users are refused."""
    pairs = [parse_pair(value, f"--auth value {i}") for i, value in enumerate(auth, 1)]
    for path in auth_files:
        pairs += read_auth_file(path)
    users = [user for user, _ in pairs]
    duplicates = sorted({user for user in users if users.count(user) > 1})
    if duplicates:
        raise AuthError(f"user(s) given more than once: {', '.join(duplicates)}")
    return pairs
