import secrets

from django.core.management.base import BaseCommand, CommandError

from manuals.demo.content import TEAM_NAME
from manuals.demo.loading import demo_logins, demo_team_exists, load_demo
from manuals.models import Member
from manuals.tree import TreeError


class Command(BaseCommand):
    help = f"Load the demo team {TEAM_NAME} (lead lena; agents alice, bob, chen) with manuals."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but list the logins) if the demo team already exists.",
        )
        parser.add_argument(
            "--password",
            help="Password for every demo user (default: a random one, printed once).",
        )

    def handle(self, *args, if_empty: bool, password: str | None, **options):
        if if_empty and demo_team_exists():
            self.stdout.write(f"Demo team {TEAM_NAME} already exists; nothing loaded.")
            self._print_logins(password=None)
            return
        # Never a known default: a demo on a reachable server is a way in.
        password = password or secrets.token_urlsafe(12)
        try:
            load_demo(password=password)
        except TreeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Loaded demo team {TEAM_NAME}."))
        self._print_logins(password=password)

    def _print_logins(self, *, password: str | None):
        self.stdout.write("Demo logins:")
        for login in demo_logins():
            role = Member.Role(login.role).label
            manual = f"  manual #{login.manual.pk} {login.manual.title}" if login.manual else ""
            self.stdout.write(f"  {login.username:<6} {login.display_name} ({role}){manual}")
        if password is not None:
            self.stdout.write(f"Password for all of them: {password}")
        else:
            self.stdout.write("Password: the one printed when the demo was loaded.")
