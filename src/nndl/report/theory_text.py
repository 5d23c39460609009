"""A study's theory block in words: for the studies report and the parent run's description."""

from __future__ import annotations

from nndl.report.table_text import markdown_table
from nndl.theory.verdict import AGREES, DISAGREES, INCONCLUSIVE

VERDICT_MARK = {AGREES: "agrees ✓", DISAGREES: "disagrees ✗", INCONCLUSIVE: "inconclusive"}
CHECK_WORD = {True: "agrees", False: "disagrees", None: "undecided"}  # one check's outcome


def number_text(value) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def theory_markdown(theory: dict, checks_table: bool = True) -> str:
    """The prediction, predicted against measured, the verdict with its rule, and each check."""
    lines = [f"**Theory:** {theory['prediction']}", "",
             f"**Predicted:** {number_text(theory['predicted'])} · **measured:** {number_text(theory['measured'])}"
             f" · **verdict: {VERDICT_MARK[theory['verdict']]}** ({theory['rule']})"]
    if theory["checks"] and checks_table:
        rows = [[item["what"], number_text(item["predicted"]), number_text(item["measured"]),
                 CHECK_WORD[item["agrees"]]] for item in theory["checks"]]
        lines += ["", markdown_table(["check", "predicted", "measured", "agrees"], rows)]
    return "\n".join(lines)


def description(study: dict, answer: str, theory: dict) -> str:
    """The parent run's description in `mlflow ui`: the question, the answer, the theory beside it."""
    checks = "\n".join(f"- {item['what']}: predicted {number_text(item['predicted'])}, measured "
                       f"{number_text(item['measured'])} ({CHECK_WORD[item['agrees']]})"
                       for item in theory["checks"])
    return (f"{study['question']}\n\n**Answer:** {answer}\n\n{theory_markdown(theory, checks_table=False)}"
            + (f"\n\n{checks}" if checks else ""))
