"""One JSON object per log line, for the web server's access log and everything else."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# gunicorn passes its access-log atoms as the record's args; these are the ones we keep.
ACCESS_FIELDS = {
    "h": "remote",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "ms",
    "f": "referer",
    "a": "agent",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry["event"] = "request"
            for atom, field in ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if value not in (None, "-", ""):
                    entry[field] = int(value) if field in {"status", "ms"} else value
            forwarded = record.args.get("{x-forwarded-for}i")
            if forwarded and forwarded != "-":
                entry["forwarded_for"] = forwarded
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
