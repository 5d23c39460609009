"""Big params of the rules whose files are in Snakemake's report, shown there by what they are.

Snakemake's report lists, under each file, every param of the job that made it (JOB PARAMETERS:
`name=str(value)`, derived params included). A seed's run specs are thousands of characters there.
Handed over as `described(value, what)`, a param is the same list or dict for the job (pickled into
its script), the same for Snakemake's metadata (which keeps and compares `repr`: nothing reruns
because of this), and one line in the report: 'runs=6 run specs: the default runs of seed 0'.
"""

from __future__ import annotations


class DescribedList(list):
    """A list that prints as its description (repr, equality and JSON: a list's)."""

    description = ""

    def __str__(self) -> str:
        return self.description


class DescribedDict(dict):
    """A dict that prints as its description (repr, equality and JSON: a dict's)."""

    description = ""

    def __str__(self) -> str:
        return self.description


def described(value: list | dict, what: str) -> DescribedList | DescribedDict:
    """`value` (a list or a dict), printed as `what`."""
    found = DescribedList(value) if isinstance(value, list) else DescribedDict(value)
    found.description = what
    return found


def run_specs(specs: list[dict], of: str) -> DescribedList:
    """Run specs (JSON) as a job reads them, printed as how many they are and whose: '6 run specs: `of`'."""
    return described(specs, f"{len(specs)} run specs: {of}")
