"""Whoosh allows one writer: concurrent writers take turns and nothing is lost."""

import threading

import pytest
from django.db import connection

from manuals.models import Section
from search.index import check_index, index_sections, rebuild_index
from search.results import search_sections

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_writers_and_a_rebuild_leave_a_consistent_index(alice, alice_manual):
    rebuild_index()
    sections = list(Section.objects.filter(manual=alice_manual, level__gt=0))
    chunks = {"甲": sections[0::3], "乙": sections[1::3], "丙": sections[2::3]}
    # The database changes first (the in-memory test database locks whole tables);
    # then three writers and a rebuild race for the index.
    for word, chunk in chunks.items():
        for section in chunk:
            Section.objects.filter(pk=section.pk).update(body=f"<p>{word}{section.pk}</p>")
    errors = []

    def writer(chunk):
        try:
            for section in chunk:
                index_sections(section_ids=[section.pk], wait=0.05)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def rebuilder():
        try:
            rebuild_index()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(chunk,)) for chunk in chunks.values()]
    threads.insert(1, threading.Thread(target=rebuilder))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    index_sections(section_ids=[])  # whatever waited on the lock is written now
    assert check_index().ok
    for word, chunk in chunks.items():
        for section in chunk:
            assert search_sections(user=alice, query=f"{word}{section.pk}").total == 1
    assert search_sections(user=alice, query="甲 乙").total == 0
    assert search_sections(user=alice, query="丙").total == len(chunks["丙"])
