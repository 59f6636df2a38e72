"""One process that normalises the same picture in N threads and prints its memory (MB):
``python -m tests.manuals.image_memory PATH THREADS`` → {"before": …, "peak": …}.

Run as its own process by tests/manuals/test_image_limits.py (and bench/limits.py), so that
the peak is this work's alone."""

import json
import os
import resource
import sys
import threading


def main(path: str, threads: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from manuals.images.pipeline import ImageRejected, normalise_image

    data = open(path, "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    errors = []

    def one():
        try:
            normalise_image(data)
        except ImageRejected as error:
            errors.append(str(error))

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"before": before, "peak": peak, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
