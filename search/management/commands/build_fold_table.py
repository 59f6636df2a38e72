from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.folding import TABLE_PATH, chinese_pairs_from_opencc, write_table


class Command(BaseCommand):
    help = (
        "Regenerate search/data/fold_chars.tsv from OpenCC's character tables "
        "(needs the opencc-python-reimplemented development package; run at build time only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--opencc-dir", help="folder with TSCharacters.txt etc.")

    def handle(self, *args, opencc_dir=None, **options):
        if opencc_dir is None:
            try:
                import opencc
            except ImportError as exc:
                raise CommandError(
                    "Install opencc-python-reimplemented or pass --opencc-dir."
                ) from exc
            opencc_dir = Path(opencc.__file__).parent / "dictionary"
        pairs = chinese_pairs_from_opencc(Path(opencc_dir))
        write_table(pairs)
        self.stdout.write(f"{len(pairs)} character pairs written to {TABLE_PATH}")
