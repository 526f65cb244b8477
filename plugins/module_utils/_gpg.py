# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: detached OpenPGP signature checks with ``gpgv``.

``gpgv`` ships with every Debian and Ubuntu system (apt verifies its own repositories with it), so a
package can be verified before anything is installed, gnupg included. It trusts every key in the
keyring it is given; which signers are acceptable is decided here, from its ``VALIDSIG`` status lines
against pinned fingerprints.
"""

import base64
import re

ARMOR = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?P<body>.*?)-----END PGP PUBLIC KEY BLOCK-----",
    re.S,
)
FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")


class SignatureError(Exception):
    """The signature does not verify, or no pinned key made it."""


def normalize_fingerprint(value):
    return re.sub(r"\s+", "", value or "").upper()


def dearmor(data):
    """OpenPGP keyring bytes from ASCII-armoured or binary input (gpgv reads only binary keyrings)."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    blocks = ARMOR.findall(text)
    if not blocks:
        return data if isinstance(data, bytes) else data.encode("latin-1")
    out = b""
    for block in blocks:
        # RFC 4880 6.2: armour headers end at the first blank line; a line starting with '=' is the CRC.
        lines = block.splitlines()
        if "" in [line.strip() for line in lines]:
            lines = lines[[line.strip() for line in lines].index("") + 1 :]
        payload = "".join(line.strip() for line in lines if line.strip() and not line.startswith("="))
        out += base64.b64decode(payload)
    return out


def signers(status_output):
    """Fingerprints from gpg's ``VALIDSIG`` lines: the signing (sub)key's and, last, its primary key's."""
    found = []
    for line in status_output.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "[GNUPG:]" and fields[1] == "VALIDSIG":
            found.append(fields[2].upper())
            if len(fields) >= 12:
                found.append(fields[-1].upper())
    return sorted(set(found))


def check(run_command, keyring_path, signature_path, data_path, allowed):
    """Verify ``data_path`` against ``signature_path``; return the accepted signer's fingerprints.

    ``run_command(argv) -> (rc, stdout, stderr)``. Raises SignatureError when gpgv rejects the
    signature or when no pinned fingerprint made it.
    """
    allowed = set(normalize_fingerprint(f) for f in allowed)
    rc, out, err = run_command(["gpgv", "--status-fd", "1", "--keyring", keyring_path, signature_path, data_path])
    found = signers(out)
    if rc != 0 or not found:
        reason = " ".join(line for line in (err or "").splitlines() if line.strip())[-400:]
        raise SignatureError("the signature does not verify (gpgv rc=%s: %s)" % (rc, reason or "no valid signature"))
    accepted = [f for f in found if f in allowed]
    if not accepted:
        raise SignatureError(
            "signed by %s, which is not a pinned fingerprint (%s)" % (", ".join(found), ", ".join(sorted(allowed)))
        )
    return accepted
