"""What Snakemake's report (--report report.zip) holds, read as its page's script reads it, and the
warning lines of a console."""

from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

# The most characters of params a report panel shows under JOB PARAMETERS ('name=value, ...').
MOST_PARAMS = 300


class SnakemakeReport:
    """A report.zip: report.html's embedded data (`var results = {...}`, `var workflow_desc = ...`)
    and the files beside it."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as archive:
            self.files = {name: archive.read(name) for name in archive.namelist()}
        (page,) = [name for name in self.files if name.endswith("/report.html")]
        self.root = page.rsplit("/", 1)[0]
        html = self.files[page].decode("utf-8")
        self.results = self._variable(html, "results")
        self.intro = self._variable(html, "workflow_desc")

    @staticmethod
    def _variable(html: str, name: str):
        """The JSON value the page assigns to `name` (the report's own scripts; the bundled
        libraries have variables of the same names, assigned other things)."""
        start = re.search(rf"\bvar {name} = (?=[{{\"])", html).end()
        return json.JSONDecoder().raw_decode(html, start)[0]

    def panel_params(self) -> dict[str, str]:
        """{file in the report: the params its panel lists}."""
        return {path: result["job_properties"]["params"] for path, result in self.results.items()}

    def item(self, path: str) -> str:
        """The text of a report item, as the zip stores it (data/raw/<id>/<name>)."""
        return self.files[f"{self.root}/{self.results[path]['data_uri']}"].decode("utf-8")

    def resolves(self, item: str, href: str) -> bool:
        """Whether a relative link in the report item `item` reaches a file of the zip."""
        folder = Path(self.root, self.results[item]["data_uri"]).parent
        parts = []
        for part in (folder / href).parts:
            parts = parts[:-1] if part == ".." else [*parts, part]
        return "/".join(parts) in self.files


def links(html: str) -> list[dict[str, str]]:
    """The attributes of every <a> in a page (in whatever order the page writes them)."""
    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                found.append(dict(attrs))

    Links().feed(html)
    return found


# A line of a console that is a warning, from any library: Python's warnings (UserWarning: ...),
# logging's (WARNING | ..., WARNING mlflow...: ...), Snakemake's and torch's ('Warning: ...').
WARNING = re.compile(r"warn", re.IGNORECASE)


def warning_lines(console: str) -> list[str]:
    return [line for line in console.splitlines() if WARNING.search(line)]
