"""Which encoding a delivered text file is in, decided without ever guessing wrong silently, and
its text as UTF-8 for DuckDB's readers: streamed, a block at a time, whatever the file's size.

The rules (UTF-8, with or without BOM, else GB18030, the superset of GBK that Excel saves Chinese
text in, but only where that cannot be a wrong guess):
- A file whose only flaw is an incomplete character at its very end is UTF-8 cut short (an
  interrupted upload): read as GB18030 it would load mojibake (抖音 as 鎶栭煶), so it is refused
  whole. So is a file that starts with the UTF-8 byte order mark but is not UTF-8.
- A file that holds UTF-8 text as well as bytes that are not UTF-8 mixes encodings (a row pasted
  from another file, damage in transit): either reading garbles part of it, so it is refused. It
  holds UTF-8 text when a line is valid UTF-8 with three or more characters UTF-8 writes in three
  or four bytes (a row such as "抖音,招行"), or when there are three or more such characters and
  they take at least twice as many bytes as the invalid ones (UTF-8 with some damage). GBK text
  almost never reads so: its bytes pair up differently, most of them are invalid UTF-8, and a few
  form UTF-8 characters by chance, nearly all of two bytes.
A GB18030 file that happens to be entirely valid UTF-8 (an ASCII file with one character such as
小, whose two GBK bytes are also a UTF-8 character) is read as UTF-8: no rule on bytes can tell
those apart.

While it reads, the first pass also measures the file's lines (`TextShape`), which is how the
CSV reader knows each row's line without reading the file in Python (`reading.py`).
"""

import codecs
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from orchestration.defs.ingest.landing import UnreadableFile

BLOCK_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"

# In text decoded from UTF-8 with errors="surrogateescape", each byte that is not UTF-8 becomes
# one of these surrogates; a character of U+0800 or above (every Chinese character) is one that
# UTF-8 writes in three or four bytes.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_UTF8_WIDE = re.compile("[\u0800-\ud7ff\ue000-\U0010ffff]")
_SPACED_QUOTES = (b' "', b'" ', b'\t"', b'"\t')
CUT_SHORT = "the file ends in the middle of a character: it was cut short; deliver it again"
NUL_BYTES = "the file holds binary data (NUL bytes), not text"


@dataclass(frozen=True)
class TextShape:
    """A text file's encoding and the shape of its lines (split at "\\n" only)."""

    encoding: str  # utf-8, utf-8-sig or gb18030
    lines: int  # lines, the last one counted whether or not "\n" ends it
    trailing_empty: int  # empty lines ("" or "\r") at the very end
    # Line ends DuckDB's CSV reader does not read as Python's csv module does: a "\r" alone (an
    # old Mac line end, or a stray one), or "\n" and "\r\n" in the same file (DuckDB takes the
    # first line's for the whole file).
    mixed_line_ends: bool
    # A quote beside a space or tab (`, "A,B"`): DuckDB reads a quoted value there, Python's csv
    # module (as the contract does) the text as it stands.
    spaced_quote: bool


class _LineCounter:
    """Counts lines, the empty ones at the end and lone carriage returns, block by block."""

    def __init__(self) -> None:
        self.newlines = 0
        self.trailing_empty = 0
        self.open_line = False  # the last line so far has content and no "\n" yet
        self.carriage_returns = 0
        self.crlf = 0
        self.spaced_quote = False
        self.last_byte = b""
        self._tail = b""  # the end of the previous block, for a pattern across two blocks

    def feed(self, block: bytes) -> None:
        if not self.spaced_quote and (b'"' in block or self._tail == b'"'):
            edge = self._tail + block[:1]  # a pair split across two blocks
            self.spaced_quote = any(pair in block or pair == edge for pair in _SPACED_QUOTES)
        self._tail = block[-1:]
        self.newlines += block.count(b"\n")
        self.carriage_returns += block.count(b"\r")
        self.crlf += block.count(b"\r\n") + (self.last_byte == b"\r" and block[:1] == b"\n")
        content = len(block.rstrip(b"\r\n"))
        tail_newlines = block.count(b"\n", content)
        if content:
            self.trailing_empty = max(tail_newlines - 1, 0)
            self.open_line = tail_newlines == 0
        elif tail_newlines:
            if self.open_line:  # the first "\n" ends the line with content
                self.trailing_empty = tail_newlines - 1
            else:
                self.trailing_empty += tail_newlines
            self.open_line = False
        self.last_byte = block[-1:]

    def shape(self, encoding: str) -> TextShape:
        unterminated = bool(self.last_byte) and self.last_byte != b"\n"
        return TextShape(
            encoding=encoding,
            lines=self.newlines + unterminated,
            trailing_empty=self.trailing_empty,
            mixed_line_ends=self.carriage_returns != self.crlf or 0 < self.crlf < self.newlines,
            spaced_quote=self.spaced_quote,
        )


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: handle.read(BLOCK_BYTES), b"")


def inspect_text(open_bytes: Callable[[], BinaryIO], check_gb18030: bool = True) -> TextShape:
    """The file's encoding and line shape, or `UnreadableFile` saying why it cannot be read.
    `open_bytes` opens the file from its start (it is read at most three times, never whole).
    Without `check_gb18030`, a file found to be GB18030 is not decoded here: the caller's
    decoding (`utf8_text`) raises the same errors."""
    lines = _LineCounter()
    with open_bytes() as handle:
        bom = handle.read(3)
        if bom != BOM:
            handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        offset = handle.tell()
        first_invalid = None  # its offset in the file, and the line it is on
        for block in _blocks(handle):
            if b"\x00" in block:
                raise UnreadableFile(NUL_BYTES)
            if first_invalid is None:
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as error:
                    at = error.start - pending  # may be negative: in the previous block
                    line = lines.newlines + block.count(b"\n", 0, max(at, 0)) + 1
                    first_invalid = (offset + at, line)
            lines.feed(block)
            offset += len(block)
    if first_invalid is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableFile(CUT_SHORT) from None
        return lines.shape("utf-8-sig" if bom == BOM else "utf-8")
    if bom == BOM:
        raise UnreadableFile(
            "the file starts with the UTF-8 byte order mark but is not UTF-8 (a byte that is"
            f" not, on line {first_invalid[1]} of the file): save it as UTF-8 and deliver it again"
        )
    with open_bytes() as handle:
        utf8_text = _utf8_text_line(handle)
    if utf8_text is not None:
        raise UnreadableFile(
            f"the file mixes encodings: it has UTF-8 text (line {utf8_text} of the file) and"
            f" bytes that are not UTF-8 (line {first_invalid[1]}); save it all as UTF-8 and"
            " deliver it again"
        )
    if check_gb18030:
        with open_bytes() as handle:
            _recode(handle, None)  # raises if it is not GB18030 either
    return lines.shape("gb18030")


def _utf8_text_line(handle: BinaryIO) -> int | None:
    """The line (1 = the first of the file) of UTF-8 text in bytes that are not valid UTF-8 as
    a whole, or None when they hold none (the module's docstring says what counts)."""
    wide_chars = wide_bytes = invalid = 0
    first_wide = None
    number = 1
    # Binary lines end at b"\n" only; a line longer than a block is looked at a block at a time.
    for raw in iter(lambda: handle.readline(BLOCK_BYTES), b""):
        line, number = number, number + raw.endswith(b"\n")
        text = raw.decode("utf-8", errors="surrogateescape")
        wide = _UTF8_WIDE.findall(text)
        if not wide:
            invalid += len(_NOT_UTF8.findall(text))
            continue
        bad = len(_NOT_UTF8.findall(text))
        if not bad and len(wide) >= 3:
            return line
        first_wide = first_wide or line
        wide_chars += len(wide)
        wide_bytes += len("".join(wide).encode())
        invalid += bad
    if wide_chars >= 3 and wide_bytes >= 2 * invalid:
        return first_wide
    return None


def _recode(handle: BinaryIO, out: BinaryIO | None) -> None:
    """GB18030 bytes into UTF-8 (into `out`, or only checked), a block at a time."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    newlines = 0
    for block in _blocks(handle):
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as error:
            line = newlines + block.count(b"\n", 0, max(error.start - pending, 0)) + 1
            raise UnreadableFile(
                "the text is neither UTF-8 nor GB18030/GBK (a byte neither can read, on line"
                f" {line} of the file); save it as UTF-8 and"
                " deliver it again"
            ) from None
        newlines += block.count(b"\n")
        if out is not None:
            out.write(text.encode("utf-8"))
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnreadableFile(CUT_SHORT) from None


# The suffix of a GB18030 file's UTF-8 copy in the staging folder.
UTF8_COPY_SUFFIX = ".utf8"


@contextmanager
def utf8_text(path: Path, workdir: Path) -> Iterator[tuple[Path, TextShape]]:
    """The file as UTF-8 for DuckDB (itself, or a converted copy in `workdir`, removed on exit)
    and its shape; `UnreadableFile` when it is neither."""
    shape = inspect_text(lambda: path.open("rb"), check_gb18030=False)
    if shape.encoding != "gb18030":
        yield path, shape
        return
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=workdir, suffix=UTF8_COPY_SUFFIX, delete=False) as named:
        copy = Path(named.name)
    try:
        with path.open("rb") as handle, copy.open("wb") as out:
            _recode(handle, out)
        yield copy, shape
    finally:
        copy.unlink(missing_ok=True)


def decode_text(raw: bytes) -> tuple[str, str]:
    """A small file's text and its encoding, by the same rules."""
    shape = inspect_text(lambda: io.BytesIO(raw))
    body = raw[3:] if shape.encoding == "utf-8-sig" else raw
    return body.decode("utf-8" if shape.encoding != "gb18030" else "gb18030"), shape.encoding
