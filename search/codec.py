"""The index's on-disk format: Whoosh's codec with packed posting blocks, and the bulk
writer rebuilds use.

Whoosh stores a posting block as a pickled tuple of Python ints and floats: about 11
bytes a posting, and every block costs a tuple of objects to read. Here a block's ids
are delta-encoded into the smallest unsigned integer type that holds them and its
weights (gram counts) likewise, each as one ``bytes`` object in the pickle. A posting
takes 1–3 bytes, and a query turns a block into a numpy array without a Python object
per posting. Whoosh's own readers (merges, deletions by term) still get the ints and
floats they expect through ``PackedLeafMatcher``.
"""

from __future__ import annotations

import marshal
import os
from array import array
from collections import defaultdict, deque
from functools import partial
from itertools import repeat

import numpy as np
from whoosh import fields, index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.formats import Existence
from whoosh.writing import PostingPool, SegmentWriter

from search.analysis import gram_counts

# Postings per block: queries read whole posting lists, so big blocks mean fewer reads.
CODEC_BLOCK = 8192
COUNT_BITS = 12
MAX_COUNT = (1 << COUNT_BITS) - 1
GRAM_FIELDS = ("grams", "tgrams")

_UINT_TYPES = ((b"B", np.dtype("<u1")), (b"H", np.dtype("<u2")), (b"I", np.dtype("<u4")),
               (b"Q", np.dtype("<u8")))  # fmt: skip
_DTYPE_OF = {code[0]: dtype for code, dtype in _UINT_TYPES} | {ord("f"): np.dtype("<f4")}


def pack_uints(values: np.ndarray) -> bytes:
    """Non-negative integers as a type code byte and the smallest fixed-size array."""
    top = int(values.max()) if len(values) else 0
    for code, dtype in _UINT_TYPES:
        if top <= np.iinfo(dtype).max:
            return code + values.astype(dtype).tobytes()
    raise ValueError("value too large for a posting block")


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_DTYPE_OF[blob[0]], offset=1)


def pack_ids(ids) -> bytes:
    return pack_uints(np.diff(np.asarray(ids, dtype=np.int64), prepend=0))


def unpack_ids(blob: bytes) -> np.ndarray:
    return np.cumsum(unpack(blob), dtype=np.int64)


def pack_weights(weights) -> bytes | None:
    values = np.asarray(weights, dtype=np.float64)
    if (values == 1.0).all():
        return None
    if (values >= 0).all() and (values == np.floor(values)).all():
        return pack_uints(values.astype(np.int64))
    return b"f" + values.astype("<f4").tobytes()


def unpack_weights(blob: bytes | None, size: int) -> np.ndarray:
    if blob is None:
        return np.ones(size, dtype=np.int64)
    return unpack(blob)


class PackedPostingsWriter(W3PostingsWriter):
    def _mini_ids(self):
        if self._byteids:
            return super()._mini_ids()
        return pack_ids(self._ids)

    def _mini_weights(self):
        if self._byteids:
            return super()._mini_weights()
        return pack_weights(self._weights)


class PackedLeafMatcher(W3LeafMatcher):
    """Whoosh's matcher over packed blocks, for Whoosh's own readers."""

    def _read_ids(self):
        if self._data is None:
            self._read_data()
        self._ids = unpack_ids(self._data[0]).tolist()

    def _read_weights(self):
        if self._data is None:
            self._read_data()
        weights = unpack_weights(self._data[1], self._blocklength)
        self._weights = array("f", weights.astype(np.float32).tobytes())

    def block_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The current block's ids and weights as numpy arrays."""
        if self._data is None:
            self._read_data()
        ids = unpack_ids(self._data[0])
        return ids, unpack_weights(self._data[1], len(ids))


class _ViewFile:
    """A read-only file over a memoryview (``io.BytesIO`` would copy the whole view)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(len(self._view), start + size)
        self._pos = max(start, end)
        return self._view[start : self._pos].tobytes()

    def readline(self, size: int | None = -1) -> bytes:
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            char = self.read(1)
            line += char
            if not char or char == b"\n":
                break
        return bytes(line)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: len(self._view)}[whence]
        self._pos = base + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = memoryview(b"")


class _MappedFile(BufferFile):
    def __init__(self, buf, name=None, onclose=None) -> None:
        self._buf = buf
        self._name = name
        self.file = _ViewFile(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False


class MappedCompoundStorage(CompoundStorage):
    """A segment file whose parts are read in place from the memory map.

    Whoosh's version wraps each part in ``io.BytesIO``, which copies it: every reader
    reopened after an edit copied every segment's postings, taking a quarter of a
    second and hundreds of megabytes per process at 100,000 sections.
    """

    def open_file(self, name, *args, **kwargs):
        if self._source is None:
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _MappedFile(memoryview(self._source)[offset : offset + length], name=name)


class SearchSegment(W3Segment):
    def open_compound_file(self, storage):
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return MappedCompoundStorage(dbfile, use_mmap=storage.supports_mmap)


class SearchCodec(W3Codec):
    """Whoosh's codec with packed posting blocks and without per-block length statistics.

    Length statistics only serve BM25 scoring, which exact substring search does not
    use, and gathering them costs a column lookup per posting.
    """

    length_stats = False

    def __init__(self) -> None:
        # No zlib on posting blocks: packed blocks are small and must decode fast.
        super().__init__(blocklimit=CODEC_BLOCK, compression=0)

    def new_segment(self, storage, indexname):
        return SearchSegment(self, indexname)

    def postings_writer(self, dbfile, byteids=False):
        return PackedPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                    compression=0, inlinelimit=self._inlinelimit)  # fmt: skip

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():  # postings kept in the term table: Whoosh's own matcher
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


def posting_arrays(leaf, fieldname: str, gram: str) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, weights) of one gram in one segment, deleted documents included."""
    empty = np.zeros(0, dtype=np.int64)
    tbytes = gram.encode("utf-8", "surrogatepass")
    terms = leaf._terms  # the segment's terms reader: no deletion filter around it
    try:
        terminfo = terms.term_info(fieldname, tbytes)
    except Exception:  # TermNotFound, or a field this segment never saw
        return empty, empty
    if terminfo.is_inlined():
        ids, weights, _values = terminfo.inlined_postings()
        return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
    matcher = terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
    id_parts, weight_parts = [], []
    while matcher.is_active():
        ids, weights = matcher.block_arrays()
        id_parts.append(ids)
        weight_parts.append(weights)
        matcher._next_block()
    if len(id_parts) == 1:
        return id_parts[0], weight_parts[0]
    return np.concatenate(id_parts), np.concatenate(weight_parts)


class GramField(fields.FieldType):
    """Grams of folded text (see ``analysis.gram_counts``); the weight is the gram's count."""

    def __init__(self) -> None:
        self.format = Existence(field_boost=1.0)
        self.vector = None
        self.scorable = False
        self.stored = False
        self.unique = False
        self.analyzer = None
        self.column_type = None

    def index(self, value, **kwargs):
        for gram, count in gram_counts(value).items():
            yield gram.encode("utf-8", "surrogatepass"), count, float(count), b""

    def process_text(self, qstring, mode="", **kwargs):
        yield qstring

    def self_parsing(self) -> bool:
        return True


class LeanPostingPool(PostingPool):
    """Whoosh's posting pool minus its per-posting assertions and size estimate, with
    sorted runs written to disk in chunks instead of one pickle per posting."""

    CHUNK = 20_000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Postings kept in memory before a sorted run is spilled (~140 bytes each as
        # tuples: a merge of big segments stays near 70 MB).
        self.maxsize = 500_000

    def add(self, item) -> None:
        current = self.current
        current.append(item)
        if len(current) >= self.maxsize:
            self.save()

    def _write_run(self, f, items) -> None:
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) == self.CHUNK:
                marshal.dump(chunk, f)
                chunk = []
        if chunk:
            marshal.dump(chunk, f)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


def segment_writer(ix: index.Index):
    """A writer for incremental changes."""
    writer = ix.writer(codec=SearchCodec())
    writer.pool = LeanPostingPool(writer._tempstorage, writer.newsegment)
    return writer


class BulkGramWriter(SegmentWriter):
    """A segment writer for rebuilds that keeps the gram postings itself.

    Whoosh's generic path turns every posting into a tuple, sorts them all externally
    and feeds them back one at a time — most of the time of a rebuild. Here each gram
    collects its documents in arrays as documents arrive (docnums only grow), and the
    posting blocks are written straight from those arrays. The result is the ordinary
    segment format; the other fields take the usual path.
    """

    def __init__(self, ix: index.Index) -> None:
        super().__init__(ix, codec=SearchCodec())
        self.pool = LeanPostingPool(self._tempstorage, self.newsegment)
        # gram → array of (docnum << 12 | count): one C-level append per posting.
        self.grams = {f: defaultdict(partial(array, "Q")) for f in GRAM_FIELDS}

    def add_bulk(self, doc: dict) -> None:
        code = self.docnum << COUNT_BITS
        for fieldname in GRAM_FIELDS:
            counts = gram_counts(doc.pop(fieldname))
            postings = map(self.grams[fieldname].__getitem__, counts.keys())
            codes = map(code.__or__, map(min, counts.values(), repeat(MAX_COUNT)))
            deque(map(array.append, postings, codes), maxlen=0)
        self.add_document(**doc)

    def _write_grams(self, fieldname: str) -> None:
        fw = self.fieldwriter
        fw.start_field(fieldname, self.schema[fieldname])
        postwriter = fw._postwriter
        limit = CODEC_BLOCK
        table = self.grams[fieldname]
        # Code point order is UTF-8 byte order, the order Whoosh's term table needs.
        for gram in sorted(table):
            codes = np.frombuffer(table[gram], dtype=np.uint64)
            ids = array("I", (codes >> COUNT_BITS).astype(np.uint32).tobytes())
            weights = array("f", (codes & MAX_COUNT).astype(np.float32).tobytes())
            fw.start_term(gram.encode("utf-8", "surrogatepass"))
            for start in range(0, len(ids), limit):
                if start:
                    postwriter._write_block()
                postwriter._ids = ids[start : start + limit]
                postwriter._weights = weights[start : start + limit]
                postwriter._maxweight = max(postwriter._weights)
            fw.finish_term()
        fw.finish_field()
        self.grams[fieldname] = defaultdict(partial(array, "Q"))

    def _flush_segment(self) -> None:
        # Field ids follow start_field order and term keys must increase: "grams" first,
        # then the pool's fields (id, manual: sorted after "grams"), then "tgrams".
        self.perdocwriter.close()
        self._write_grams("grams")
        self.fieldwriter.add_postings(self.schema, None, self.pool.iter_postings())
        self._write_grams("tgrams")
        self.fieldwriter.close()
