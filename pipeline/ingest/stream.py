r"""Big exports in bounded memory: probe a file once, then hand its body to the parser in chunks.

``probe`` reads the bytes once to hash them and to learn whether the file can be read in chunks:
UTF-8 (with or without a BOM) that decodes strictly, ``\\n`` or ``\\r\\n`` line ends, no NUL bytes.
Anything else (UTF-16, Windows-1252, mixed encodings, bare ``\\r``) is read whole by
``read_table``, as small files are; big files of that kind are rare and the whole read handles them.

``body_chunks`` cuts the body after the header at record boundaries: the last newline of a block
that is outside quotes (an even number of ``"`` before it, which RFC 4180's doubled quotes keep).
A record longer than ``MAX_CARRY_CHUNKS`` chunks means the quoting cannot be trusted (a stray quote
in an unquoted cell); the caller then reads the file whole, which decides what the file means.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.ingest.read import ZIP_MAGIC

CHUNK_BYTES = 48 * 2**20   # files bigger than this are read in chunks of about this size (KOHDE_INGEST_CHUNK_MB)
HEAD_BYTES = 2**20         # the header must sit in the first MiB (HEAD_LINES lines at most)
MAX_CARRY_CHUNKS = 4
_BLOCK = 8 * 2**20
UTF8_BOM = b"\xef\xbb\xbf"


class NotChunkable(Exception):
    """The file cannot be cut into chunks safely; read it whole."""


@dataclass(frozen=True)
class Probe:
    """What one pass over a file's bytes tells: its hash, size, and whether it can be read in chunks."""

    sha256: str
    size: int
    chunkable: bool
    bom: int  # bytes of UTF-8 BOM to skip


def probe(path: Path) -> Probe:
    """sha256, size and chunkability of a file, reading it once in 8 MiB blocks."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    size, bom, chunkable, previous_cr = 0, 0, True, False
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            if size == 0:
                bom = 3 if block.startswith(UTF8_BOM) else 0
                chunkable = not block.startswith((b"\xff\xfe", b"\xfe\xff", ZIP_MAGIC))
            size += len(block)
            if not chunkable:
                continue
            # a CR that ends a block must be followed by the next block's leading LF
            cr_at_end = block.endswith(b"\r")
            lone_cr = block.count(b"\r") - block.count(b"\r\n") - cr_at_end
            if b"\x00" in block or lone_cr > 0 or (previous_cr and not block.startswith(b"\n")):
                chunkable = False
                continue
            previous_cr = cr_at_end
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                chunkable = False
    if chunkable:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            chunkable = False
    return Probe(digest.hexdigest(), size, chunkable and size > 0 and not previous_cr, bom)


def read_head(path: Path) -> bytes:
    """The first bytes of a file, where its header must be."""
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def body_chunks(path: Path, offset: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes from ``offset`` on, in pieces that end at a record boundary (the last may lack a newline)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        carry = b""
        while block := handle.read(chunk_bytes):
            buffer = carry + block
            cut = record_end(buffer)
            if cut < 0:
                if len(buffer) > MAX_CARRY_CHUNKS * chunk_bytes:
                    raise NotChunkable("no record boundary outside quotes: the quoting cannot be trusted")
                carry = buffer
                continue
            yield buffer[:cut + 1]
            carry = buffer[cut + 1:]
        if carry:
            yield carry


def record_end(buffer: bytes) -> int:
    """Index of the last newline outside quotes, or -1."""
    position = buffer.rfind(b"\n")
    while position >= 0 and buffer.count(b'"', 0, position) % 2:
        position = buffer.rfind(b"\n", 0, position)
    return position


__all__ = ["CHUNK_BYTES", "NotChunkable", "Probe", "body_chunks", "probe", "read_head", "record_end"]
