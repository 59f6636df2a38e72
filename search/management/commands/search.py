import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from search.results import search_sections


class Command(BaseCommand):
    help = 'Search as a user would: python manage.py search "QUERY" --as USERNAME [--json]'

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--as", dest="username", required=True, help="search as this user")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--page", type=int, default=1)
        parser.add_argument("--per-page", type=int, default=50)

    def handle(self, *args, query, username, json: bool = False, page=1, per_page=50, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        results = search_sections(user=user, query=query, page=page, per_page=max(1, per_page))
        if results.unavailable:
            raise CommandError("The search index is unavailable; run rebuild_index.")
        for notice in results.notices:
            self.stderr.write(notice)
        for hit in results.hits:
            if json:
                self.stdout.write(_json_line(hit))
            else:
                where = " › ".join([hit.manual_title, *hit.path, hit.title])
                self.stdout.write(f"[{hit.section_id}] {hit.owner_name} · {where}")
                self.stdout.write(f"    {hit.snippet_text}")
        if not json:
            self.stdout.write(f"{results.total} sections")


def _json_line(hit) -> str:
    return json.dumps(
        {
            "section_id": hit.section_id,
            "manual_id": hit.manual_id,
            "title": hit.title,
            "path": hit.path,
            "snippet": hit.snippet_text,
            "owner": hit.owner_name,
            "count": hit.count,
        },
        ensure_ascii=False,
    )
