"""The Whoosh internals ``search.whoosh_store`` relies on are there and behave as assumed.

Each entry of ``whoosh_store.WHOOSH_INTERNALS`` is a test of its own, named after the
internal, so a Whoosh upgrade that renames, drops or re-signs one fails by name. The round
trips below write a small index through whoosh_store and read it back, for the entries
that are about behaviour and on-disk layout ("format: ...").
"""

import importlib
import inspect
import random
from io import BytesIO

import pytest
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.fields import FieldType
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.formats import Existence

from search import codec, whoosh_store
from search.analysis import gram_counts

REBUILT = [(1, "退款规则", "退款 退款 refund"), (2, "换货", "退款 换货 TB2023"),
           (3, "物流", "退款"), (4, "退款复盘", "客户 退款 退款 退款"), (5, "质检", "退款 质检"),
           (6, "发票", "发票"), (7, "refund", "refund 退款"), (8, "会员", "会员 退款")]  # fmt: skip
EDITED = [(9, "客户情绪", "安抚 退款"), (10, "补发", "补发 refund")]
LATER = [(11, "退款时效", "24 小时 退款")]
DELETED = 2  # a section deleted by the edit: docnum 1 of the rebuilt segment


def document(pk: int, title: str, text: str) -> dict:
    folded = title.lower() + "\n" + text.lower()
    return {
        "id": str(pk), "manual": str(pk % 2), "title": title, "text": text,
        "grams": folded, "tgrams": title.lower(), "c_folded": folded.encode(),
        "c_section": pk, "c_manual": pk % 2, "c_owner": 100 + pk, "c_team": 7,
        "c_access": pk % 3, "c_updated": 1_700_000_000 + pk, "c_kind": 1 + pk % 4,
    }  # fmt: skip


def build(directory) -> whoosh_store.Index:
    """A rebuilt segment with a deletion, then two edit segments; posting blocks of 3."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh_store, "CODEC_BLOCK", 3)
        ix = whoosh_store.create_in(directory)
        writer = whoosh_store.BulkGramWriter(ix)
        for row in REBUILT:
            writer.add_bulk(document(*row))
        writer.commit(mergetype=whoosh_store.NO_MERGE)
        for rows, delete in ((EDITED, DELETED), (LATER, None)):
            writer = whoosh_store.segment_writer(ix)
            if delete:
                writer.delete_by_term("id", str(delete))
            for row in rows:
                writer.add_document(**document(*row))
            writer.commit(mergetype=whoosh_store.NO_MERGE)
    return ix


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    return build(tmp_path_factory.mktemp("index"))


def expected_postings(rows, fieldname: str, term: str) -> tuple[list[int], list[int]]:
    docs = [document(*row) for row in rows]
    found = [(n, gram_counts(doc[fieldname]).get(term, 0)) for n, doc in enumerate(docs)]
    return [n for n, count in found if count], [count for _n, count in found if count]


# --- every internal in the list -------------------------------------------------------


def resolve(where: str):
    """(owner, member name, member) for "module:Class.member" (member None: the owner)."""
    module_name, _, dotted = where.partition(":")
    module = importlib.import_module("whoosh." + module_name)
    owner_name, _, member = dotted.partition(".")
    assert hasattr(module, owner_name), f"whoosh.{module_name} has no {owner_name}"
    owner = getattr(module, owner_name)
    return owner, member, getattr(owner, member, None) if member else owner


def live_instances(ix) -> dict[str, object]:
    """A working instance of each Whoosh class whose instance attributes we rely on."""
    reader = ix.reader()
    leaf = reader.leaf_readers()[0][0]
    writer = ix.writer()
    writer.fieldwriter.start_field("grams", ix.schema["grams"])
    postwriter = W3Codec().postings_writer(StructFile(BytesIO()))
    postwriter.start_postings(Existence(), W3TermInfo())
    perdoc = getattr(leaf, "_perdoc", None)
    live = {
        "codec.whoosh3:W3Codec": W3Codec(),
        "codec.whoosh3:W3PostingsWriter": postwriter,
        # The last segment has no deletions: its matcher is not wrapped in a filter.
        "codec.whoosh3:W3LeafMatcher": reader.leaf_readers()[-1][0].postings("grams", "退款"),
        "codec.whoosh3:W3PerDocReader": perdoc,
        "codec.whoosh3:W3TermsReader": getattr(leaf, "_terms", None),
        "codec.whoosh3:W3FieldWriter": writer.fieldwriter,
        "filedb.compound:CompoundStorage": leaf.segment().open_compound_file(ix.storage),
        "filedb.filestore:OverlayStorage": getattr(perdoc, "_storage", None),
        "filedb.structfile:BufferFile": BufferFile(b"abc"),
        "reading:SegmentReader": leaf,
        "fields:FieldType": FieldType(Existence(), None),
        "writing:PostingPool": writer.pool,
        "writing:SegmentWriter": writer,
    }
    return live, lambda: (writer.cancel(), reader.close())


@pytest.fixture(scope="module")
def live(small_index):
    instances, close = live_instances(small_index)
    yield instances
    close()


# Where each "format: ..." entry is checked.
FORMAT_CHECKS = {
    "codec.whoosh3:W3LeafMatcher._data": "test_postings_read_back_as_arrays_and_by_whoosh",
    "codec.whoosh3:W3LeafMatcher._goto": "test_postings_read_back_as_arrays_and_by_whoosh",
    "codec.whoosh3:W3FieldWriter": "test_postings_read_back_as_arrays_and_by_whoosh",
    "codec.whoosh3:STORED_COLUMN": "test_columns_and_stored_fields_read_in_place",
    "columns:VarBytesColumn": "test_columns_and_stored_fields_read_in_place",
    "index:TOC": "test_the_toc_names_pickled_classes_by_their_first_path",
}


@pytest.mark.parametrize(
    "where, assumed",
    whoosh_store.WHOOSH_INTERNALS,
    ids=[w for w, _ in whoosh_store.WHOOSH_INTERNALS],
)
def test_whoosh_internal_is_as_assumed(where, assumed, live):
    owner, member, value = resolve(where)
    name = f"whoosh.{where}"
    if assumed == "class":
        assert inspect.isclass(value), f"{name} is no longer a class"
    elif assumed == "attribute":
        instance = live.get(where.rpartition(".")[0])
        assert instance is not None, f"no working instance to check {name} on (see above)"
        assert hasattr(instance, member), f"{name} is no longer set on instances"
    elif assumed.startswith("("):
        assert callable(value), f"{name} is gone"
        signature = str(inspect.signature(value))
        assert signature == assumed, f"{name} now takes {signature}, not {assumed}"
    elif assumed.startswith("= "):
        assert hasattr(owner, member), f"{name} is gone"
        assert repr(value) == assumed[2:], f"{name} is now {value!r}, not {assumed[2:]}"
    else:
        assert assumed.startswith("format: "), f"{where}: unknown kind of assumption {assumed!r}"
        instance = live.get(where.rpartition(".")[0])
        assert value is not None or hasattr(instance, member), f"{name} is gone"
        assert where in FORMAT_CHECKS, f"no round trip below checks {name} ({assumed})"


# --- round trips ----------------------------------------------------------------------


def test_postings_read_back_as_arrays_and_by_whoosh(small_index):
    reader = whoosh_store.open_reader(small_index)
    segments = reader.segments()
    assert [len(rows) for rows in (REBUILT, EDITED, LATER)] == [s.size for s in segments]
    terms = {t for row in REBUILT + EDITED + LATER for f in ("grams", "tgrams")
             for t in gram_counts(document(*row)[f])}  # fmt: skip
    for segment, rows in zip(segments, (REBUILT, EDITED, LATER), strict=True):
        for fieldname in ("grams", "tgrams"):
            for term in sorted(terms):
                ids, weights = segment.postings(fieldname, term)
                want_ids, want_weights = expected_postings(rows, fieldname, term)
                assert ids.tolist() == want_ids, (fieldname, term, "postings ids")
                assert weights.tolist() == want_weights, (fieldname, term, "postings weights")
    # Whoosh's own reader over the packed blocks (merges and deletions use it).
    with small_index.searcher() as searcher:
        matcher = searcher.reader().postings("grams", "退款")
        found = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight()))
            matcher.next()
    everything = [document(*row) for row in REBUILT + EDITED + LATER]
    want = [(n, float(gram_counts(doc["grams"])["退款"])) for n, doc in enumerate(everything)
            if "退款" in gram_counts(doc["grams"]) and doc["id"] != str(DELETED)]  # fmt: skip
    assert found == want
    reader.close()


def test_columns_and_stored_fields_read_in_place(small_index):
    reader = whoosh_store.open_reader(small_index)
    for segment, rows in zip(reader.segments(), (REBUILT, EDITED, LATER), strict=True):
        docs = [document(*row) for row in rows]
        for name in ("c_section", "c_owner", "c_access", "c_updated", "c_kind"):
            assert segment.int_column(name).tolist() == [d[name] for d in docs], name
        data, starts, lengths = segment.bytes_column("c_folded")
        assert isinstance(data, memoryview), "columns are no longer read from the memory map"
        values = [bytes(data[s : s + n]) for s, n in zip(starts, lengths, strict=True)]
        assert values == [d["c_folded"] for d in docs]
        for docnum, doc in enumerate(docs):
            stored = {"id": doc["id"], "title": doc["title"], "text": doc["text"]}
            assert segment.stored_fields(docnum) == stored
    reader.close()


def test_deletions_sizes_and_documents(small_index):
    reader = whoosh_store.open_reader(small_index)
    assert [s.deleted() for s in reader.segments()] == [frozenset({1}), frozenset(), frozenset()]
    assert [s.base for s in reader.segments()] == [0, 8, 10]
    assert whoosh_store.segment_sizes(small_index) == [8, 2, 1]
    assert reader.is_current()
    live = {int(stored["id"]): values for stored, values in
            whoosh_store.documents(small_index, ["c_owner", "c_kind"])}  # fmt: skip
    rows = [row for row in REBUILT + EDITED + LATER if row[0] != DELETED]
    assert live == {pk: (100 + pk, 1 + pk % 4) for pk, _title, _text in rows}
    assert whoosh_store.indexed_ids(small_index, manual_id=1) == {pk for pk, *_ in rows if pk % 2}
    reader.close()


def test_merge_policy_merges_the_chosen_segments_and_keeps_postings(tmp_path):
    ix = build(tmp_path)
    reader = whoosh_store.open_reader(ix)
    writer = whoosh_store.segment_writer(ix)
    writer.commit(mergetype=whoosh_store.merge_policy(lambda sizes: [s < 8 for s in sizes]))
    assert not reader.is_current()
    reader.close()
    assert whoosh_store.segment_sizes(ix) == [8, 3]
    merged = whoosh_store.open_reader(ix).segments()[1]
    assert merged.postings("grams", "退款")[0].tolist() == [0, 2]
    assert merged.int_column("c_section").tolist() == [9, 10, 11]


def test_the_toc_names_pickled_classes_by_their_first_path(small_index):
    toc = max(small_index.storage.list(), key=lambda n: (n.endswith(".toc"), n))
    data = small_index.storage.open_file(toc).read()
    assert b"search.codec" in data and b"whoosh_store" not in data, (
        "index TOCs must keep naming GramField, SearchSegment and SearchCodec search.codec.*"
    )
    for name in ("GramField", "SearchSegment", "SearchCodec"):
        assert getattr(codec, name) is getattr(whoosh_store, name)
    assert whoosh_store.open_dir(small_index.storage.folder).doc_count() == 10


# Texts whose grams a rebuild counts in bulk: empty ones, one character, characters beyond
# the Basic Multilingual Plane, a lone surrogate, repeats (overlapping pairs), and texts
# whose last and first characters would make a pair across two documents ("款" + "客").
BULK_TEXTS = ["", "a", "退款", "ab\nab", "😀😀x𠀋", "\ud800x", "退款退款退", "", "客户",
              "order tb2023120512 refund-policy hello", "ｆｕｌｌ width", "é", "ééé"]  # fmt: skip


def bulk_segment(directory, texts: list[str]) -> whoosh_store.Segment:
    ix = whoosh_store.create_in(directory)
    writer = whoosh_store.BulkGramWriter(ix)
    for pk, text in enumerate(texts, start=1):
        doc = document(pk, "t", "x")
        doc.update(grams=text, tgrams=text[:3], c_folded=text.encode("utf-8", "surrogatepass"))
        writer.add_bulk(doc)
    writer.commit(mergetype=whoosh_store.NO_MERGE)
    return whoosh_store.open_reader(ix).segments()[0]


@pytest.mark.parametrize("chunk_chars", [1, 5, 1 << 21])
def test_a_rebuilt_segment_holds_exactly_each_texts_grams(tmp_path, monkeypatch, chunk_chars):
    """Every gram of every text with its count, and no other term (the 1- and 2-grams are
    counted many documents at a time, ``chunk_chars`` characters at once)."""
    monkeypatch.setattr(whoosh_store, "_CHUNK_CHARS", chunk_chars)
    rng = random.Random(chunk_chars)
    pool = "退款客户订单發貨abc12-😀\n"
    texts = BULK_TEXTS + ["".join(rng.choices(pool, k=rng.randint(0, 30))) for _ in range(60)]
    segment = bulk_segment(tmp_path, texts)
    for fieldname, of in (("grams", lambda t: t), ("tgrams", lambda t: t[:3])):
        expected: dict[str, dict[int, int]] = {}
        for docnum, text in enumerate(texts):
            for gram, count in gram_counts(of(text)).items():
                expected.setdefault(gram, {})[docnum] = count
        terms = set(segment._leaf.lexicon(fieldname))
        assert terms == {gram.encode("utf-8", "surrogatepass") for gram in expected}
        for gram, postings in expected.items():
            ids, weights = segment.postings(fieldname, gram)
            assert dict(zip(ids.tolist(), weights.tolist(), strict=True)) == postings, gram
