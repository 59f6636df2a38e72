from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from manuals.models import Manual
from manuals.team_templates.cloning import clone_template
from manuals.tree import TreeError


class Command(BaseCommand):
    help = "Clone a team template into a new manual for USERNAME; prints the new manual's id."

    def add_arguments(self, parser):
        parser.add_argument("template_id", type=int, help="id of the template manual")
        parser.add_argument("--owner", required=True, help="username of the new manual's owner")
        parser.add_argument("--title", default=None, help="title (default: “<name>的工作手册”)")

    def handle(self, *args, template_id, owner, title, **options):
        template = Manual.objects.filter(pk=template_id).first()
        if template is None:
            raise CommandError(f"no manual with id {template_id}")
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"no user named {owner!r}")
        try:
            manual = clone_template(template=template, owner=user, title=title)
        except TreeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(manual.pk))
