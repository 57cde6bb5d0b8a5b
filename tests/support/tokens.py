"""PyPI API tokens in both serializations PyPI has issued, for tests that read their issuer."""

from __future__ import annotations

import base64
import os


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def macaroon_v2(location: bytes | None, identifier: bytes = b"") -> str:
    """A token serialized as pymacaroons' v2 binary format does, as PyPI issues them."""
    fields = b""
    if location is not None:
        fields += b"\x01" + _varint(len(location)) + location
    identifier = identifier or os.urandom(16)
    fields += b"\x02" + _varint(len(identifier)) + identifier + b"\x00"  # end of the header section
    fields += b"\x00" + b"\x06" + _varint(32) + os.urandom(32)  # no caveats, then the signature
    return "pypi-" + base64.urlsafe_b64encode(b"\x02" + fields).decode().rstrip("=")


def macaroon_v1(location: str) -> str:
    """A token in pymacaroons' v1 format (PyPI's first tokens): length-prefixed text packets."""
    packets = b""
    for key, value in (("location", location), ("identifier", "abc"), ("signature", "x" * 32)):
        line = f"{key} {value}\n".encode()
        packets += f"{len(line) + 4:04x}".encode() + line
    return "pypi-" + base64.urlsafe_b64encode(packets).decode().rstrip("=")
