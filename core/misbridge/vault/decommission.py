"""Decommissioning: remove every key, sealed credential, setting and log of this install.

The steps, in the order that keeps nothing readable:

1. note which MIS accounts had credentials (so the operator can disable them: deleting
   our copy does not stop anyone who copied it earlier);
2. delete every sealed blob from the blob store (remote ones too);
3. destroy every key: key files overwritten and deleted, passphrases deleted from the
   keyring or the passphrase file (a blob that survives somewhere can no longer open);
4. remove the misbridge home folder (settings, extract state, logs), unless it is a
   folder that is clearly not misbridge's own (``/``, the user's home, a parent of it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import structlog
from attrs import frozen

from misbridge.errors import MisbridgeError
from misbridge.hooktypes import MisInfo
from misbridge.vault.files import remove_private
from misbridge.vault.keys import KeyDirectory
from misbridge.vault.passphrase import FilePassphrases
from misbridge.vault.settings import PassphraseIn
from misbridge.vault.vault import Vault, _NoPassphrases

__all__ = ["AccountToDisable", "DecommissionReport", "decommission"]

log = structlog.get_logger()

_SECRETISH = ("token", "key", "secret")


@frozen
class AccountToDisable:
    """An MIS account misbridge held credentials for, and what to do about it."""

    mis: str
    school: str | None
    fields: tuple[str, ...]
    advice: str


@frozen
class DecommissionReport:
    accounts: tuple[AccountToDisable, ...]
    removed: tuple[str, ...]
    problems: tuple[str, ...]


def account_advice(
    mis: str, school: str | None, fields: tuple[str, ...], info: MisInfo | None
) -> str:
    title = info.title if info else mis
    where = f" for school {school}" if school else ""
    steps: list[str] = []
    tokens = [f for f in fields if any(s in f.lower() for s in _SECRETISH)]
    if any("pass" in f.lower() for f in fields) or not tokens:
        steps.append(
            f"delete the {title} user account misbridge used for extraction{where}, or reset "
            "its password"
        )
    if tokens:
        steps.append(f"revoke or regenerate the {title} {', '.join(tokens)}{where}")
    return "; ".join(steps)


def _safe_to_remove_tree(root: Path) -> bool:
    resolved = root.resolve()
    user_home = Path.home().resolve()
    return resolved != Path(resolved.anchor) and resolved not in (user_home, *user_home.parents)


def decommission(
    vault: Vault | None = None, *, describe_mis: Callable[[str], MisInfo | None] | None = None
) -> DecommissionReport:
    """Remove everything the vault and misbridge keep on this machine; see module doc."""
    vault = vault or Vault()
    removed: list[str] = []
    problems: list[str] = []
    accounts: list[AccountToDisable] = []

    try:
        entries = vault.entries()
    except MisbridgeError as exc:
        entries = []
        problems.append(f"the sealed credentials could not be listed: {exc.message}")
    for entry in entries:
        fields = entry.header.fields if entry.header else ()
        info = describe_mis(entry.mis) if describe_mis else None
        advice = account_advice(entry.mis, entry.school, fields, info)
        accounts.append(AccountToDisable(entry.mis, entry.school, fields, advice))
        try:
            if vault.blobs.delete(entry.name):
                removed.append(f"sealed credentials {entry.name} from {vault.blobs.describe()}")
        except MisbridgeError as exc:
            problems.append(f"{entry.name} was not deleted: {exc.message}; delete it by hand")

    kids = KeyDirectory(vault.key_dir, _NoPassphrases()).kids()
    passphrases = None
    if kids or vault.settings.passphrase_store is PassphraseIn.FILE:
        try:
            passphrases = vault.passphrases
        except MisbridgeError as exc:
            problems.append(f"the key passphrases could not be reached: {exc.message}")
    for kid in kids:
        remove_private(vault.key_dir / f"{kid}.key")
        removed.append(f"private key {kid}")
        if passphrases is not None:
            try:
                if passphrases.delete(kid):
                    removed.append(f"passphrase of key {kid} from {passphrases.describe()}")
            except MisbridgeError as exc:
                problems.append(f"the passphrase of key {kid} was not deleted: {exc.message}")
    if isinstance(passphrases, FilePassphrases) and remove_private(passphrases.path):
        removed.append(f"the key passphrase file {passphrases.path}")

    root = vault.root
    if root.exists():
        if _safe_to_remove_tree(root):
            shutil.rmtree(root)
            removed.append(f"the misbridge folder {root} (settings, extract state, logs)")
        else:
            for name in ("keys", "credentials", "logs", "vault.json"):
                target = root / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    remove_private(target)
            problems.append(
                f"{root} is not a folder of misbridge's own, so only its keys, credentials, "
                "logs and vault settings were removed; check what else is there"
            )
    log.info("vault.decommissioned", accounts=len(accounts), problems=len(problems))
    return DecommissionReport(tuple(accounts), tuple(removed), tuple(problems))
