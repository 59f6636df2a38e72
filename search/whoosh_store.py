"""The Whoosh door: the only module that knows how Whoosh works inside.

The rest of ``search`` uses the index through this interface:

- ``create_in`` / ``open_dir`` / ``make_schema``: an index directory and its schema;
- ``segment_writer`` (edits) and ``BulkGramWriter`` (rebuilds, with ``add_segments`` for the
  segments its ``finish_segment`` leaves): Whoosh writers, used through
  their public methods (``add_document``, ``delete_by_term``, ``commit``, ``cancel``), with
  ``NO_MERGE`` or a ``merge_policy`` as ``commit(mergetype=...)``;
- ``segment_sizes``, ``indexed_ids``, ``documents``: what index maintenance reads;
- ``open_reader`` → ``Reader.segments()`` → ``Segment``: what a query reads, as numpy arrays
  and buffers (views of the memory-mapped segment files, not copies).

Whoosh stores a posting block as a pickled tuple of Python ints and floats: about 11 bytes
a posting, and every block costs a tuple of objects to read. ``SearchCodec`` writes each
block's ids and weights packed instead (``search.packing``): 1–3 bytes a posting, turned
into a numpy array without a Python object per posting. Whoosh's own readers (merges,
deletions by term) still get the ints and floats they expect through ``PackedLeafMatcher``.

Doing this fast means subclassing Whoosh's codec, writers and matcher and reading its
files in place. Every Whoosh internal relied on is listed in ``WHOOSH_INTERNALS``;
``tests/search/test_whoosh_contract.py`` checks each one against the installed Whoosh.
"""

from __future__ import annotations

import io
import itertools
import marshal
import os
import pickle
import struct
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from whoosh import columns, fields, index
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PostingsWriter,
    W3Segment,
    W3TermInfo,
)
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.formats import Existence
from whoosh.reading import SegmentReader
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import NO_MERGE, PostingPool, SegmentWriter

from search.analysis import gram_counts, long_gram_counts
from search.packing import COUNT_BITS, MAX_COUNT, pack_ids, pack_weights, unpack_ids, unpack_weights

__all__ = [
    "NO_MERGE", "BulkGramWriter", "Index", "Reader", "Segment", "add_segments", "create_in",
    "documents", "indexed_ids", "make_schema", "merge_policy", "open_dir", "open_reader",
    "segment_sizes", "segment_writer",
]  # fmt: skip

Index = index.Index  # what open_dir and create_in return
# Postings per block: queries read whole posting lists, so big blocks mean fewer reads.
CODEC_BLOCK = 8192
GRAM_FIELDS = ("grams", "tgrams")
STORED_COLUMN = "_stored"  # Whoosh keeps a document's stored fields in this column


# Every Whoosh internal this module relies on: (where, what is assumed). Where is
# "module:Class.member" under ``whoosh.``; what is "class" (subclassed or built),
# "attribute" (read or set on instances), "(...)" (a method, with the exact parameters it
# is called or overridden with), "= ..." (a constant's repr) or "format: ..." (how Whoosh
# lays things out on disk). tests/search/test_whoosh_contract.py checks every entry.
WHOOSH_INTERNALS: tuple[tuple[str, str], ...] = (
    # The codec: packed posting blocks, segment files read in place.
    ("codec.whoosh3:W3Codec", "class"),
    ("codec.whoosh3:W3Codec.__init__", "(self, blocklimit=128, compression=3, inlinelimit=1)"),
    ("codec.whoosh3:W3Codec._blocklimit", "attribute"),
    ("codec.whoosh3:W3Codec._inlinelimit", "attribute"),
    ("codec.whoosh3:W3Codec.length_stats", "= True"),
    ("codec.whoosh3:W3Codec.new_segment", "(self, storage, indexname)"),
    ("codec.whoosh3:W3Codec.postings_writer", "(self, dbfile, byteids=False)"),
    ("codec.whoosh3:W3Codec.postings_reader",
     "(self, dbfile, terminfo, format_, term=None, scorer=None)"),
    ("codec.whoosh3:W3Codec.column_filename", "(segment, fieldname)"),
    ("codec.whoosh3:W3PostingsWriter", "class"),
    ("codec.whoosh3:W3PostingsWriter.__init__",
     "(self, postfile, blocklimit, byteids=False, compression=3, inlinelimit=1)"),
    ("codec.whoosh3:W3PostingsWriter._mini_ids", "(self)"),
    ("codec.whoosh3:W3PostingsWriter._mini_weights", "(self)"),
    ("codec.whoosh3:W3PostingsWriter._write_block", "(self, last=False)"),
    ("codec.whoosh3:W3PostingsWriter._byteids", "attribute"),
    ("codec.whoosh3:W3PostingsWriter._ids", "attribute"),
    ("codec.whoosh3:W3PostingsWriter._weights", "attribute"),
    ("codec.whoosh3:W3PostingsWriter._maxweight", "attribute"),
    ("codec.whoosh3:W3LeafMatcher", "class"),
    ("codec.whoosh3:W3LeafMatcher.__init__",
     "(self, postfile, startoffset, length, format_, term=None, byteids=None, scorer=None)"),
    ("codec.whoosh3:W3LeafMatcher._read_data", "(self)"),
    ("codec.whoosh3:W3LeafMatcher._read_ids", "(self)"),
    ("codec.whoosh3:W3LeafMatcher._read_weights", "(self)"),
    ("codec.whoosh3:W3LeafMatcher._next_block", "(self)"),
    ("codec.whoosh3:W3LeafMatcher._data",
     "format: a block's data unpickled: (_mini_ids(), _mini_weights(), values)"),
    ("codec.whoosh3:W3LeafMatcher._blocklength", "attribute"),
    ("codec.whoosh3:W3LeafMatcher._ids", "attribute"),
    ("codec.whoosh3:W3LeafMatcher._weights", "attribute"),
    ("codec.whoosh3:W3TermInfo.is_inlined", "(self)"),
    ("codec.whoosh3:W3TermInfo.extent", "(self)"),
    ("codec.whoosh3:W3TermInfo.inlined_postings", "(self)"),
    ("codec.whoosh3:W3TermsReader.term_info", "(self, fieldname, tbytes)"),
    ("codec.whoosh3:W3TermsReader._postfile", "attribute"),
    ("codec.whoosh3:W3LeafMatcher._goto",
     "format: magic, then blocks: signed size (negative: last), pickled info "
     "(count, last id, max weight, compression, min and max length), pickled data"),
    ("codec.whoosh3:W3TermsReader.matcher", "(self, fieldname, tbytes, format_, scorer=None)"),
    ("codec.whoosh3:W3Segment", "class"),
    ("codec.whoosh3:W3Segment.open_compound_file", "(self, storage)"),
    ("codec.whoosh3:W3Segment.make_filename", "(self, ext)"),
    ("codec.whoosh3:W3Segment.COMPOUND_EXT", "= '.seg'"),
    ("codec.whoosh3:W3PerDocReader._storage", "attribute"),
    ("codec.whoosh3:W3PerDocReader._segment", "attribute"),
    ("codec.whoosh3:STORED_COLUMN",
     "format: the _stored column: each document's stored fields, pickled and zlib-compressed"),
    ("columns:VarBytesColumn",
     "format: values, big-endian lengths, maybe offsets, then type codes ('X': offsets)"),
    ("filedb.compound:CompoundStorage", "class"),
    ("filedb.compound:CompoundStorage.__init__", "(self, dbfile, use_mmap=True, basepos=0)"),
    ("filedb.compound:CompoundStorage.open_file", "(self, name, *args, **kwargs)"),
    ("filedb.compound:CompoundStorage.range", "(self, name)"),
    ("filedb.compound:CompoundStorage._source", "attribute"),
    ("filedb.filestore:OverlayStorage.a", "attribute"),
    ("filedb.structfile:BufferFile", "class"),
    ("filedb.structfile:BufferFile.__init__", "(self, buf, name=None, onclose=None)"),
    ("filedb.structfile:BufferFile._buf", "attribute"),
    ("filedb.structfile:BufferFile._name", "attribute"),
    ("filedb.structfile:BufferFile.file", "attribute"),
    ("filedb.structfile:BufferFile.onclose", "attribute"),
    ("filedb.structfile:BufferFile.is_real", "attribute"),
    ("filedb.structfile:BufferFile.is_closed", "attribute"),
    # Reading segments.
    ("index:FileIndex._segments", "(self)"),
    ("index:TOC", "format: pickles schema field types, segments and codecs by class path"),
    ("reading:SegmentReader", "class"),
    ("reading:SegmentReader.__init__",
     "(self, storage, schema, segment, generation=None, codec=None)"),
    ("reading:SegmentReader._terms", "attribute"),
    ("reading:SegmentReader._perdoc", "attribute"),
    ("reading:SegmentReader.deleted_docs_set", "attribute"),
    # The gram field type, built without FieldType.__init__.
    ("fields:FieldType.format", "attribute"),
    ("fields:FieldType.vector", "attribute"),
    ("fields:FieldType.scorable", "attribute"),
    ("fields:FieldType.stored", "attribute"),
    ("fields:FieldType.unique", "attribute"),
    ("fields:FieldType.analyzer", "attribute"),
    ("fields:FieldType.column_type", "attribute"),
    ("fields:FieldType.index", "(self, value, **kwargs)"),
    ("fields:FieldType.process_text", "(self, qstring, mode='', **kwargs)"),
    ("fields:FieldType.self_parsing", "(self)"),
    # Writing segments: the posting pool, and the bulk writer's own gram postings.
    ("writing:PostingPool", "class"),
    ("writing:PostingPool.__init__", "(self, tempstore, segment, limitmb=128, **kwargs)"),
    ("writing:PostingPool.current", "attribute"),
    ("writing:PostingPool.maxsize", "attribute"),
    ("writing:PostingPool.add", "(self, item)"),
    ("writing:PostingPool.save", "(self)"),
    ("writing:PostingPool._write_run", "(self, f, items)"),
    ("writing:PostingPool._read_run", "(self, path)"),
    ("writing:PostingPool._open_run", "(self, path)"),
    ("writing:PostingPool._remove_run", "(self, path)"),
    ("writing:SegmentWriter", "class"),
    ("writing:SegmentWriter.__init__",
     "(self, ix, poolclass=None, timeout=0.0, delay=0.1, _lk=True, limitmb=128, docbase=0, "
     "codec=None, compound=True, **kwargs)"),
    ("writing:SegmentWriter._flush_segment", "(self)"),
    ("writing:SegmentWriter._tempstorage", "attribute"),
    ("writing:SegmentWriter.newsegment", "attribute"),
    ("writing:SegmentWriter.pool", "attribute"),
    ("writing:SegmentWriter.docnum", "attribute"),
    ("writing:SegmentWriter.perdocwriter", "attribute"),
    ("writing:SegmentWriter.fieldwriter", "attribute"),
    ("codec.whoosh3:W3FieldWriter", "format: terms in increasing byte order, fields by start"),
    ("codec.whoosh3:W3FieldWriter._postwriter", "attribute"),
    ("codec.whoosh3:W3FieldWriter.start_field", "(self, fieldname, fieldobj)"),
    ("codec.whoosh3:W3FieldWriter.start_term", "(self, btext)"),
    ("codec.whoosh3:W3FieldWriter.add_postings", "(self, schema, lengths, items)"),
)  # fmt: skip


# --- the packed posting format --------------------------------------------------------


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


# Index TOCs pickle the schema's field types, the segments and their codec by class path.
# These classes lived in search.codec when the indexes on disk were written, so they keep
# that path (search.codec resolves it): old indexes open, and processes still running the
# previous release read indexes written by this one.
for _pickled in (GramField, SearchSegment, SearchCodec):
    _pickled.__module__ = "search.codec"


# --- the index directory ----------------------------------------------------------------


def make_schema() -> fields.Schema:
    """One document per section; ``index._document`` builds them."""
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        manual=fields.ID(),
        title=fields.STORED(),
        text=fields.STORED(),
        grams=GramField(),
        tgrams=GramField(),
        c_section=fields.COLUMN(columns.NumericColumn("q")),
        c_manual=fields.COLUMN(columns.NumericColumn("q")),
        c_owner=fields.COLUMN(columns.NumericColumn("q")),
        c_team=fields.COLUMN(columns.NumericColumn("q")),
        c_access=fields.COLUMN(columns.NumericColumn("B")),
        c_updated=fields.COLUMN(columns.NumericColumn("q")),
        c_kind=fields.COLUMN(columns.NumericColumn("B")),
        # Folded "title\ntext" as UTF-8: verification is a bytes search, no unpickling.
        c_folded=fields.COLUMN(columns.VarBytesColumn()),
    )


def create_in(directory: Path) -> Index:
    """A new, empty index in ``directory`` (which exists)."""
    return index.create_in(str(directory), make_schema())


def open_dir(directory: Path) -> Index:
    """The index in ``directory``; raises whatever Whoosh raises for a missing or broken one."""
    return index.open_dir(str(directory))


def segment_sizes(ix: Index) -> list[int]:
    """Documents in each segment of the index (deleted ones included), in index order."""
    return [segment.doc_count_all() for segment in ix._segments()]


def indexed_ids(ix: Index, *, manual_id: int) -> set[int]:
    """Section ids of the live documents indexed as part of manual ``manual_id``."""
    with ix.searcher() as searcher:
        docs = searcher.document_numbers(manual=str(manual_id))
        return {int(searcher.stored_fields(d)["id"]) for d in docs}


def documents(ix: Index, column_names: Sequence[str]) -> Iterator[tuple[dict, tuple]]:
    """Every live document's stored fields, with its values in ``column_names``."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        cols = [reader.column_reader(name) for name in column_names]
        for docnum, stored in reader.iter_docs():
            yield stored, tuple(col[docnum] for col in cols)


# --- writing ------------------------------------------------------------------------------


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


def segment_writer(ix: Index) -> SegmentWriter:
    """A writer for incremental changes."""
    writer = ix.writer(codec=SearchCodec())
    writer.pool = LeanPostingPool(writer._tempstorage, writer.newsegment)
    return writer


def add_segments(ix: Index, segments: Sequence) -> None:
    """Commit segments written by ``BulkGramWriter.finish_segment`` (into this index's
    directory) after the index's own segments, in the order given."""
    writer = ix.writer(codec=SearchCodec())
    writer.commit(mergetype=lambda _writer, existing: [*existing, *segments])


def merge_policy(choose: Callable[[list[int]], list[bool]]) -> Callable:
    """A ``mergetype`` for ``writer.commit``: merges the segments that ``choose`` picks,
    given every segment's number of documents."""

    def merge(writer, segments):
        kept = []
        picked = choose([segment.doc_count_all() for segment in segments])
        for segment, wanted in zip(segments, picked, strict=True):
            if wanted:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
            else:
                kept.append(segment)
        return kept

    return merge


class _GramTable:
    """A segment's postings of one gram field, gathered as documents arrive.

    The 1- and 2-grams (nearly all postings) are counted with numpy, many documents at a
    time: each character's code point, and each pair's two code points, make one integer
    key (first << 21 | second + 1, so keys sort as the grams' strings do), with the
    document number below it; sorting a chunk's keys counts them. Counting them with a
    Counter and numbering each gram in a dict cost ~1.5 µs a posting, half a rebuild.
    The longer grams (ASCII 3- to 5-grams, words) are few and go through a dict.
    """

    def __init__(self) -> None:
        self.docs = 0
        self.texts: list[str] = []  # waiting to be counted
        self.buffered = 0
        self.short: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per chunk
        self.long_numbers: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        self.long_terms = array("I")
        self.long_counts = array("I")
        self.long_docs = array("I")

    def add(self, folded: str) -> None:
        longer = long_gram_counts(folded)
        if longer:
            self.long_terms.extend(map(self.long_numbers.__getitem__, longer))
            self.long_counts.extend(longer.values())
            self.long_docs.extend(itertools.repeat(self.docs, len(longer)))
        self.docs += 1
        self.texts.append(folded)
        self.buffered += len(folded)
        if self.buffered >= _CHUNK_CHARS:
            self._count_short()

    def _count_short(self) -> None:
        """The waiting documents' 1- and 2-gram postings: (keys, counts, distinct grams),
        keys gram << DOC_BITS | docnum in increasing order."""
        texts, self.texts, self.buffered = self.texts, [], 0
        first = self.docs - len(texts)
        joined = "".join(texts)
        if not joined:
            return
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        points = points.astype(np.uint64)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        docnums = np.repeat(np.arange(first, self.docs, dtype=np.uint64), lengths)
        single = (points << _SECOND_BITS << DOC_BITS) | docnums
        pairs = ((points[:-1] << _SECOND_BITS) | (points[1:] + 1)) << DOC_BITS | docnums[:-1]
        ends = np.cumsum(lengths)[lengths > 0] - 1  # a document's last character: no pair
        keep = np.ones(len(pairs), dtype=bool)
        keep[ends[ends < len(pairs)]] = False
        keys = np.concatenate([single, pairs[keep]])
        del points, docnums, single, pairs, keep
        keys.sort()
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        counts = np.diff(np.append(starts, len(keys))).astype(np.uint32)
        keys = keys[starts]
        grams = keys >> DOC_BITS
        distinct = grams[np.concatenate([[True], grams[1:] != grams[:-1]])]
        self.short.append((keys, counts, distinct))

    def postings(self) -> Iterator[tuple[str, list | np.ndarray, list | np.ndarray]]:
        """(gram, docnums, counts) for every gram, grams in code point order (which is
        UTF-8 byte order, the order Whoosh's term table needs), docnums increasing; lists
        for grams of fewer than _SMALL_POSTINGS documents, else arrays.

        Postings become one uint64 each, gram rank | docnum | count, sorted in place:
        ~20 bytes a posting at the peak, and the grams' postings in writing order.
        """
        if self.docs > 1 << DOC_BITS:
            raise ValueError("too many documents for one rebuilt segment")
        self._count_short()
        distinct = np.unique(np.concatenate([d for _k, _c, d in self.short] or [_NO_KEYS]))
        low = (1 << _SECOND_BITS) - 1
        grams = [chr(key >> _SECOND_BITS) + (chr((key & low) - 1) if key & low else "")
                 for key in distinct.tolist()]  # fmt: skip
        grams += self.long_numbers  # in number order
        order = sorted(range(len(grams)), key=grams.__getitem__)
        ranked = [grams[i] for i in order]
        del grams
        rank_of = np.empty(len(ranked), dtype=np.uint64)
        rank_of[np.array(order, dtype=np.int64)] = np.arange(len(ranked), dtype=np.uint64)
        del order
        short_rank, long_rank = rank_of[: len(distinct)], rank_of[len(distinct) :]
        size = sum(len(k) for k, _c, _d in self.short) + len(self.long_terms)
        keys = np.empty(size, dtype=np.uint64)
        tally = np.zeros(len(ranked), dtype=np.int64)
        at = 0
        for rank, docnums, counts in self._ranked_parts(distinct, short_rank, long_rank):
            part = keys[at : at + len(rank)]
            part[:] = rank << (DOC_BITS + COUNT_BITS)
            part |= docnums.astype(np.uint64) << COUNT_BITS
            part |= np.minimum(counts, MAX_COUNT).astype(np.uint64)
            tally += np.bincount(rank.astype(np.int64), minlength=len(ranked))
            at += len(rank)
        self.long_terms = self.long_counts = self.long_docs = array("I")
        ends = np.cumsum(tally).tolist()
        keys.sort()
        chunk, chunk_start, chunk_end = [], 0, 0
        start = 0
        for gram, end in zip(ranked, ends, strict=True):
            if end - start >= _SMALL_POSTINGS:
                codes = keys[start:end]
                yield gram, (codes >> COUNT_BITS) & DOC_MASK, codes & MAX_COUNT
            else:
                if end > chunk_end:  # Python ints a chunk at a time: no numpy call a gram
                    chunk_start, chunk_end = start, min(len(keys), start + _CHUNK)
                    chunk = keys[chunk_start:chunk_end].tolist()
                codes = chunk[start - chunk_start : end - chunk_start]
                yield (
                    gram,
                    [(c >> COUNT_BITS) & DOC_MASK for c in codes],
                    [c & MAX_COUNT for c in codes],
                )
            start = end

    def _ranked_parts(self, distinct, short_rank, long_rank) -> Iterator[tuple]:
        """(gram ranks, docnums, counts) of the postings, a counted chunk at a time (each let
        go once used), then the longer grams'."""
        while self.short:
            keys, counts, _distinct = self.short.pop(0)
            yield short_rank[np.searchsorted(distinct, keys >> DOC_BITS)], keys & DOC_MASK, counts
        if self.long_terms:
            yield (
                long_rank[np.frombuffer(self.long_terms, dtype=np.uint32)],
                np.frombuffer(self.long_docs, dtype=np.uint32),
                np.frombuffer(self.long_counts, dtype=np.uint32),
            )  # fmt: skip


class BulkGramWriter(SegmentWriter):
    """A segment writer for rebuilds that keeps the gram postings itself.

    Whoosh's generic path turns every posting into a tuple, sorts them all externally
    and feeds them back one at a time — most of the time of a rebuild. Here a
    ``_GramTable`` per gram field gathers the postings in flat arrays, sorted by gram at
    the end with numpy, and the posting blocks and term entries are written straight from
    them. The result is the ordinary segment format; the other fields take the usual
    path. ``lock=False`` is for a rebuild's worker processes, writing segments of an
    index nobody else writes to (the rebuild holds the index's writer lock).
    """

    def __init__(self, ix: Index, *, lock: bool = True) -> None:
        super().__init__(ix, codec=SearchCodec(), _lk=lock)
        # Whoosh names every writer's temporary directory alike: one of our own, since
        # several of us write at once (and each removes its own when done).
        self._tempstorage = self.storage.temp_storage(f"rebuild-{self.newsegment.segid}.tmp")
        self.pool = LeanPostingPool(self._tempstorage, self.newsegment)
        self.grams = {f: _GramTable() for f in GRAM_FIELDS}

    def add_bulk(self, doc: dict) -> None:
        for fieldname in GRAM_FIELDS:
            self.grams[fieldname].add(doc.pop(fieldname))
        self.add_document(**doc)

    def _write_grams(self, fieldname: str) -> None:
        """Each gram's posting blocks and term entry, as Whoosh's ``W3PostingsWriter`` and
        ``W3TermInfo`` write them (byte for byte), without their per-term objects and
        calls: those cost ~90 µs a term, and a segment has ~500,000 terms."""
        fw = self.fieldwriter
        fw.start_field(fieldname, self.schema[fieldname])
        postfile, term_table = fw._postfile, fw._tindex
        key_prefix = pack_ushort(fw._fieldmap[fieldname])
        offset = postfile.tell()
        out = bytearray()
        for gram, docnums, counts in self.grams.pop(fieldname).postings():
            postings, terminfo = _gram_postings(docnums, counts)
            term_table.add(key_prefix + gram.encode("utf-8", "surrogatepass"),
                           terminfo + pack_long(offset) + pack_int(len(postings)))  # fmt: skip
            out += postings
            offset += len(postings)
            if len(out) >= 1 << 20:
                postfile.write(bytes(out))
                out.clear()
        postfile.write(bytes(out))
        fw.finish_field()

    def finish_segment(self):
        """Write the segment's files, without adding it to the index (a worker's part
        of a rebuild): returns the segment, for ``add_segments``."""
        segment = self._finalize_segment()
        self._finish()
        return segment

    def _flush_segment(self) -> None:
        # Field ids follow start_field order and term keys must increase: "grams" first,
        # then the pool's fields (id, manual: sorted after "grams"), then "tgrams".
        self.perdocwriter.close()
        self._write_grams("grams")
        self.fieldwriter.add_postings(self.schema, None, self.pool.iter_postings())
        self._write_grams("tgrams")
        self.fieldwriter.close()


# A term entry (W3TermInfo._struct): flags, total weight, document frequency, min and max
# length bytes, max weight, first and last id; then the postings' offset and length.
_TERMINFO = W3TermInfo._struct
_NO_LENGTH = length_to_byte(0)  # grams carry no field lengths
_SMALL_POSTINGS = 48  # below this many, plain Python beats numpy's per-call cost
_CHUNK = 1 << 16  # postings turned into Python ints at once
_CHUNK_CHARS = 1 << 21  # characters of text whose 1- and 2-grams are counted at once
_SECOND_BITS = 21  # a 2-gram's key: first code point << 21 | second + 1 (0: a 1-gram)
_NO_KEYS = np.zeros(0, dtype=np.uint64)
# A rebuilt segment's docnums fit in DOC_BITS bits (index.REBUILD_SEGMENT stays below).
DOC_BITS = 17
DOC_MASK = (1 << DOC_BITS) - 1
_PACK_CODES = ((0xFF, "B"), (0xFFFF, "H"), (0xFFFFFFFF, "I"))


def _pack_small(values: list[int]) -> bytes:
    """``packing.pack_uints`` for a short list of ints."""
    top = max(values)
    for limit, code in _PACK_CODES:
        if top <= limit:
            return code.encode() + struct.pack(f"<{len(values)}{code}", *values)
    return b"Q" + struct.pack(f"<{len(values)}Q", *values)


def _block(ids, weights, last: bool, *, small: bool) -> bytes:
    """One posting block as ``W3PostingsWriter._write_block`` writes it (no compression)."""
    if small:
        deltas = [b - a for a, b in zip([0, *ids], ids, strict=False)]
        packed_ids = _pack_small(deltas)
        packed_weights = None if all(w == 1 for w in weights) else _pack_small(weights)
        maxweight = float(max(weights))
        last_id = ids[-1]
    else:
        packed_ids = pack_ids(ids)
        packed_weights = pack_weights(weights)
        maxweight = float(weights.max())
        last_id = int(ids[-1])
    data = pickle.dumps((packed_ids, packed_weights, None), 2)
    info = pickle.dumps((len(ids), last_id, maxweight, 0, 0, _NO_LENGTH), 2)
    size = len(info) + len(data)
    return pack_int(-size if last else size) + info + data


def _gram_postings(docnums: list | np.ndarray, counts: list | np.ndarray) -> tuple[bytes, bytes]:
    """A gram's bytes in the postings file (its blocks), and its term entry but for the
    postings' extent."""
    limit = CODEC_BLOCK
    if isinstance(docnums, list) and len(docnums) <= limit:
        blocks = [_block(docnums, counts, True, small=True)]
        total, maxweight = float(sum(counts)), float(max(counts))
        first, last = docnums[0], docnums[-1]
    else:
        docnums, counts = np.asarray(docnums, dtype=np.int64), np.asarray(counts, np.int64)
        size = len(docnums)
        blocks = [
            _block(docnums[start : start + limit], counts[start : start + limit],
                   start + limit >= size, small=False)
            for start in range(0, size, limit)
        ]  # fmt: skip
        total, maxweight = float(counts.sum()), float(counts.max())
        first, last = int(docnums[0]), int(docnums[-1])
    terminfo = _TERMINFO.pack(0, total, len(docnums), 0, _NO_LENGTH, maxweight, first, last)
    return WHOOSH3_HEADER_MAGIC + b"".join(blocks), terminfo


# --- reading ------------------------------------------------------------------------------

_BLOCK_SIZE = struct.Struct("!i")  # whoosh.system.pack_int


def _read_postings(view: memoryview, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """A posting list's (docnums, weights), read from the mapped postings file directly.

    The blocks as ``W3LeafMatcher`` reads them: the header magic, then per block its size
    (negative for the last), the pickled block info and the pickled data. Going through the
    matcher cost a third of a millisecond a posting list in seeks and small reads — per
    term and segment, which at a million sections (40 segments) was most of a query. (The
    list's length in its term entry is not used: Whoosh decodes it as a tuple.)
    """
    data = view[offset:]
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a posting list")
    id_parts, weight_parts = [], []
    position, last = 4, False
    while not last:
        (size,) = _BLOCK_SIZE.unpack_from(data, position)
        last, size = size < 0, abs(size)
        block = io.BytesIO(data[position + 4 : position + 4 + size])
        _count, _last_id, _max_weight, compression, _min_len, _max_len = pickle.load(block)
        raw = block.read()
        packed_ids, packed_weights, _values = pickle.loads(
            zlib.decompress(raw) if compression else raw
        )
        ids = unpack_ids(packed_ids)
        id_parts.append(ids)
        weight_parts.append(unpack_weights(packed_weights, len(ids)))
        position += 4 + size
    if len(id_parts) == 1:
        return id_parts[0], weight_parts[0]
    return np.concatenate(id_parts), np.concatenate(weight_parts)


# (segment key, column) → (starts, lengths) of a bytes column: read once per segment.
_layouts: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


class Segment:
    """One segment of an open ``Reader``: documents 0 … size - 1, the first of them
    document ``base`` of the reader. Segments never change once written, except that
    documents get deleted; ``key`` names the segment across readers."""

    def __init__(self, leaf: SegmentReader, base: int) -> None:
        self._leaf = leaf
        self.base = base
        self.key: str = leaf.segment().segment_id()

    @property
    def size(self) -> int:
        return self._leaf.doc_count_all()

    def deleted(self) -> frozenset[int]:
        """Numbers of the deleted documents (a segment's deletions only ever grow)."""
        leaf = self._leaf
        return leaf.deleted_docs_set if leaf.has_deletions() else frozenset()

    def int_column(self, name: str) -> np.ndarray:
        """A numeric column: one int64 per document."""
        return np.asarray(array("q", self._leaf.column_reader(name)), dtype=np.int64)

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, weights) of ``term``, deleted documents included."""
        empty = np.zeros(0, dtype=np.int64)
        tbytes = term.encode("utf-8", "surrogatepass")
        terms = self._leaf._terms  # the segment's terms reader: no deletion filter around it
        try:
            terminfo = terms.term_info(fieldname, tbytes)
        except Exception:  # TermNotFound, or a field this segment never saw
            return empty, empty
        if terminfo.is_inlined():
            ids, weights, _values = terminfo.inlined_postings()
            return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)
        mapped = getattr(terms._postfile, "_buf", None)  # a _MappedFile's view of the map
        if isinstance(mapped, memoryview):
            return _read_postings(mapped, terminfo.extent()[0])
        matcher = terms.matcher(fieldname, tbytes, self._leaf.schema[fieldname].format)
        id_parts, weight_parts = [], []
        while matcher.is_active():
            ids, weights = matcher.block_arrays()
            id_parts.append(ids)
            weight_parts.append(weights)
            matcher._next_block()
        if len(id_parts) == 1:
            return id_parts[0], weight_parts[0]
        return np.concatenate(id_parts), np.concatenate(weight_parts)

    def bytes_column(self, name: str) -> tuple[memoryview | bytes, np.ndarray, np.ndarray]:
        """A bytes column as one buffer, with each document's start and length in it.

        The buffer is a view of the memory-mapped segment file (Whoosh's own column
        reader copies the whole column into memory on every open); the offsets are read
        once per segment.
        """
        data = _column_bytes(self._leaf, name)
        key = (self.key, name)
        layout = _layouts.get(key)
        if layout is None:
            if len(_layouts) > 512:
                _layouts.clear()
            layout = _layouts[key] = _varbytes_layout(data, self.size)
        return (data, *layout)

    def stored_fields(self, docnum: int) -> dict:
        """A document's stored fields (Whoosh's reader for them would copy the segment's
        whole stored column on every reader reopen)."""
        data, starts, lengths = self.bytes_column(STORED_COLUMN)
        start, length = int(starts[docnum]), int(lengths[docnum])
        return pickle.loads(zlib.decompress(data[start : start + length])) if length else {}


class Reader:
    """The index as it was when opened; ``is_current`` says whether it changed since."""

    def __init__(self, ix: Index) -> None:
        self._ix = ix
        self._reader = ix.reader()

    def is_current(self) -> bool:
        return self._ix.latest_generation() == self._reader.generation()

    def segments(self) -> list[Segment]:
        return [
            Segment(leaf, base)
            for leaf, base in self._reader.leaf_readers()
            if leaf.segment() is not None  # an index without segments (nothing indexed yet)
        ]

    def close(self) -> None:
        self._reader.close()


def open_reader(ix: Index) -> Reader:
    return Reader(ix)


def _column_bytes(leaf, fieldname: str) -> memoryview | bytes:
    """A column file of the segment, without copying it when the segment is mapped."""
    perdoc = leaf._perdoc  # Whoosh's per-document reader of this segment
    storage = perdoc._storage
    filename = W3Codec.column_filename(perdoc._segment, fieldname)
    compound = getattr(storage, "a", storage)  # an OverlayStorage puts the segment file first
    source = getattr(compound, "_source", None)  # the compound segment file's mmap
    if source is not None and compound.file_exists(filename):
        offset, length = compound.range(filename)
        return memoryview(source)[offset : offset + length]
    handle = storage.open_file(filename)
    try:
        return handle.read()
    finally:
        handle.close()


def _varbytes_layout(data: memoryview | bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, lengths) of the values in a Whoosh VarBytesColumn file.

    The layout is Whoosh's (``columns.VarBytesColumn``): the values, then the big-endian
    lengths array, optionally the offsets array, then type codes ("X" marks offsets).
    """
    last = len(data) - 1
    code = chr(data[last])
    offsets = None
    if code == "X":
        code, offsets_code = chr(data[last - 2]), chr(data[last - 1])
        dtype = np.dtype(offsets_code).newbyteorder(">")
        last = last - 2 - count * dtype.itemsize
        offsets = np.frombuffer(data[last : last + count * dtype.itemsize], dtype=dtype)
    dtype = np.dtype(code).newbyteorder(">")
    start = last - count * dtype.itemsize
    lengths = np.frombuffer(data[start:last], dtype=dtype).astype(np.int64)
    if offsets is None:
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return offsets.astype(np.int64), lengths
