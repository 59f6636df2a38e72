"""Where the index files on disk find our Whoosh classes.

Whoosh pickles the field type, codec and segment classes into each index's table of
contents by module path, and indexes were written while those classes lived here. They now
live in ``search.whoosh_store``; this name resolves them so existing indexes open (and new
ones keep the same path, see whoosh_store). Nothing else belongs here: the posting packing
is ``search.packing``.
"""

PICKLED = ("GramField", "SearchCodec", "SearchSegment")


def __getattr__(name: str):
    if name in PICKLED:
        from search import whoosh_store

        return getattr(whoosh_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
