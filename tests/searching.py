"""What tests that search right after an edit use: the search worker's step, run here.

With Whoosh only the worker writes the index (web processes queue the ids); a test that
wants an edit searchable at once runs the worker's ``index_pending`` task in-process, as
the worker would. With PostgreSQL the write already happened at commit: nothing to do.
"""

from contextlib import contextmanager

from django.test import TestCase


def index_pending_like_the_worker() -> None:
    from search import index
    from search.tasks import index_pending

    if index.has_pending():
        # A bounded wait: a test may hold the writer lock on purpose (a busy index).
        index_pending.call(wait=1.0)


@contextmanager
def committed_and_indexed():
    """Run the on-commit callbacks of what the block does, then the pending indexing."""
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        yield callbacks
    index_pending_like_the_worker()
