"""Join PDFs into one, page by page, straight to the output: memory stays flat.

pypdf's PdfWriter keeps every object of the joined document until it writes the file, so its
memory grows with the page count (about 0.17 MiB a tear-off page, benchmarks/README.md).
`StreamingPdfJoiner` instead writes each input's pages, and everything they refer to, to the
output as soon as it gets them, renumbered after the objects already written. Between inputs
it keeps only integers: the byte offset of each object written and the object number of each
page. `close()` then writes the one /Pages node that every page names as its /Parent, the
cross-reference table and the trailer.

What is copied: the pages with all they reach (content streams, resources, fonts, images,
link annotations). What is not: each input's document-level parts (outlines, named
destinations, page labels, structure tree), except the first input's /Info strings (title,
producer) and /Lang. No Django here: it is plain PDF plumbing.
"""

from __future__ import annotations

import re
import zlib
from array import array
from collections.abc import Sequence
from io import BytesIO
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

# Object numbers fixed from the start: the page tree's root (written last, when all its
# kids are known) and the catalog that points to it (written first).
PAGES = 1
CATALOG = 2
BINARY_MARKER = b"%\xe2\xe3\xcf\xd3\n"  # tells transfer programs the file is binary


class StreamingPdfJoiner:
    """Append PDFs (`append`) to a binary stream `out`, then `close()`. `out` only needs
    `write`: offsets are counted here, never asked of the stream."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._written = 0
        # _offsets[n]: where object n starts in the output; 0 while it is only reserved.
        self._offsets = array("Q", [0, 0, 0])
        self._pages = array("Q")  # the object number of each page, in order
        self._info = 0
        self._push = self._pop = 0  # the shared "q" and "Q" content streams of overlays
        self._started = False

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def append(self, source: BinaryIO | bytes, overlays: Sequence[str] = ()) -> int:
        """Copy every page of the PDF `source` to the output. `overlays[i]`, if given and not
        empty, is a PDF content stream drawn on top of page i, in the page's own coordinates.
        Returns the number of pages copied."""
        reader = PdfReader(BytesIO(source) if isinstance(source, bytes) else source)
        if not self._started:
            self._start(reader)
        numbers: dict[tuple[int, int], int] = {}
        tree = reader.trailer["/Root"].raw_get("/Pages")
        numbers[_key(tree)] = PAGES  # a reference to the input's page tree means ours
        pages = list(reader.pages)
        queue: list[IndirectObject] = []
        for page in pages:
            reference = page.indirect_reference
            numbers[_key(reference)] = number = self._reserve()
            self._pages.append(number)
        for index, page in enumerate(pages):
            ops = overlays[index] if index < len(overlays) else ""
            self._copy_page(page, ops, numbers, queue)
        while queue:
            reference = queue.pop()
            target = reference.get_object()
            _discover(target, numbers, queue, self._reserve)
            self._write_object(numbers[_key(reference)], _serialize(target, numbers))
        return len(pages)

    def close(self) -> None:
        """Write the page tree, the cross-reference table and the trailer."""
        if not self._started:
            self._start(None)
        kids = b" ".join(b"%d 0 R" % number for number in self._pages)
        self._write_object(
            PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages))
        )
        missing = [n for n in range(1, len(self._offsets)) if not self._offsets[n]]
        if missing:
            raise RuntimeError(f"objects reserved but never written: {missing[:5]}")
        xref_at = self._written
        size = len(self._offsets)
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for number in range(1, size):
            self._write(b"%010d 00000 n \n" % self._offsets[number])
        info = b" /Info %d 0 R" % self._info if self._info else b""
        self._write(b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (size, CATALOG, info))
        self._write(b"startxref\n%d\n%%%%EOF\n" % xref_at)

    # --- output ------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._written += len(data)

    def _reserve(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def _write_object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._written
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _new_object(self, body: bytes) -> int:
        number = self._reserve()
        self._write_object(number, body)
        return number

    def _new_stream(self, data: bytes, *, compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data)
            head = b"<< /Filter /FlateDecode /Length %d >>" % len(data)
        else:
            head = b"<< /Length %d >>" % len(data)
        return self._new_object(head + b"\nstream\n" + data + b"\nendstream")

    def _start(self, reader: PdfReader | None) -> None:
        """The header, the catalog, and the first input's document information."""
        version = reader.pdf_header if reader is not None else ""
        if not re.fullmatch(r"%PDF-\d\.\d", version):
            version = "%PDF-1.7"
        self._write(version.encode("ascii") + b"\n" + BINARY_MARKER)
        catalog = b"<< /Type /Catalog /Pages %d 0 R" % PAGES
        if reader is not None:
            root = reader.trailer["/Root"]
            lang = root.get("/Lang")
            if isinstance(lang, TextStringObject | ByteStringObject):
                catalog += b" /Lang " + _serialize(lang, {})
            info = reader.trailer.get("/Info")
            strings = {
                key: value
                for key, value in (info.get_object().items() if info is not None else ())
                if isinstance(value, TextStringObject | ByteStringObject)
            }
            if strings:
                self._info = self._new_object(_serialize(strings, {}))
        self._write_object(CATALOG, catalog + b" >>")
        self._started = True

    def _copy_page(self, page, ops: str, numbers: dict, queue: list) -> None:
        """Write one page: its own entries (inherited ones included: pypdf copies them onto
        each page), its parent replaced by our page tree, the overlay appended to its
        content in a q … Q of its own so that the page's graphics state cannot leak into it.
        """
        entries = {key: value for key, value in dict.items(page) if key != "/Parent"}
        if ops:
            if not self._push:
                self._push = self._new_stream(b"q", compress=False)
                self._pop = self._new_stream(b"Q", compress=False)
            contents = entries.get("/Contents")
            resolved = contents.get_object() if contents is not None else None
            if isinstance(resolved, ArrayObject):
                parts = list(list.__iter__(resolved))
            else:
                parts = [contents] if contents is not None else []
            # Overlays draw from the top left of the media box, y downwards.
            x0, _y0, _x1, top = (float(v) for v in page.mediabox)
            ours = f"q 1 0 0 -1 {x0:.3f} {top:.3f} cm {ops} Q"
            entries["/Contents"] = ArrayObject(
                [_Ref(self._push), *parts, _Ref(self._pop), _Ref(self._new_stream(ours.encode()))]
            )
        entries["/Parent"] = _Ref(PAGES)
        _discover(entries, numbers, queue, self._reserve)
        number = numbers[_key(page.indirect_reference)]
        self._write_object(number, _serialize(entries, numbers))


class _Ref(PdfObject):
    """A reference to an object already numbered in the output (not in any input)."""

    def __init__(self, number: int):
        self.number = number


def _key(reference: IndirectObject) -> tuple[int, int]:
    return (reference.idnum, reference.generation)


def _discover(obj, numbers: dict, queue: list, reserve) -> None:
    """Number every indirect object `obj` refers to that has no number yet, and queue it."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if _key(item) not in numbers:
                numbers[_key(item)] = reserve()
                queue.append(item)
        elif isinstance(item, dict):
            # A stream's /Length is written directly; the object it may point to is not needed.
            stack.extend(
                value
                for key, value in dict.items(item)
                if not (key == "/Length" and isinstance(item, StreamObject))
            )
        elif isinstance(item, ArrayObject):
            stack.extend(list.__iter__(item))


def _serialize(obj, numbers: dict) -> bytes:
    buffer = BytesIO()
    _write(obj, numbers, buffer)
    return buffer.getvalue()


def _write_entries(obj: dict, numbers: dict, buffer: BytesIO, skip: str = "") -> None:
    for key, value in dict.items(obj):
        if key == skip or (len(key) > 2 and key[1] == "%" and key[-1] == "%"):
            continue  # pypdf's own markers are not PDF (its writer skips them too)
        NameObject(key).write_to_stream(buffer)
        buffer.write(b" ")
        _write(value, numbers, buffer)
        buffer.write(b"\n")


def _write(obj, numbers: dict, buffer: BytesIO) -> None:
    """Serialize `obj` with every reference renumbered for the output."""
    if isinstance(obj, IndirectObject):
        buffer.write(b"%d 0 R" % numbers[_key(obj)])
    elif isinstance(obj, _Ref):
        buffer.write(b"%d 0 R" % obj.number)
    elif isinstance(obj, StreamObject):
        data = obj._data  # the stream as stored (still encoded): copied byte for byte
        buffer.write(b"<<\n/Length %d\n" % len(data))
        _write_entries(obj, numbers, buffer, skip="/Length")
        buffer.write(b">>\nstream\n")
        buffer.write(data)
        buffer.write(b"\nendstream")
    elif isinstance(obj, dict):
        buffer.write(b"<<\n")
        _write_entries(obj, numbers, buffer)
        buffer.write(b">>")
    elif isinstance(obj, ArrayObject):
        buffer.write(b"[")
        for item in list.__iter__(obj):
            buffer.write(b" ")
            _write(item, numbers, buffer)
        buffer.write(b" ]")
    else:
        obj.write_to_stream(buffer)
