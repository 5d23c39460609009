"""Whether a run is a success, as data: None, or an Outcome with a kind and a message.

Readers branch on `kind`; the message is made here, once, for people (the MLflow `outcome` tag, the
study table, the job's error), and never parsed back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nndl.errors import DivergenceError, GateError
from nndl.tasks.runspec import RunSpec
from nndl.tasks.types import Gate

OK, DIVERGED, MISSED_GATES = "ok", "diverged", "missed gates"  # OK: trained to the end, passed its gates


@dataclass(frozen=True)
class Outcome:
    kind: str  # DIVERGED (no final metric) or MISSED_GATES (a final metric all the same)
    message: str  # 'diverged at epoch 1, step 3 (minibatch loss inf; train/loss = nan)'

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> Outcome | None:
        return None if data is None else cls(**data)


def describe_divergence(diverged: dict) -> str:
    """'diverged at epoch 1, step 3 (minibatch loss inf; train/loss = nan)'."""
    where = f"epoch {diverged['epoch']}" + (f", step {diverged['step']}" if diverged["step"] else "")
    details = ([f"minibatch loss {diverged['step_loss']}"] if diverged["step"] else []) + \
        [f"{key} = {value}" for key, value in diverged["losses"].items()]
    return f"diverged at {where} ({'; '.join(details)})"


def gate_failures(gates: tuple[Gate, ...], bounds: dict, values: dict) -> list[str]:
    """Each missed gate as 'what = value, gate < bound (off by x)'; empty when all pass. `values`:
    the final epoch's metrics and, for a regression, the parameter errors."""
    failures = []
    for gate in gates:
        value, bound = values[gate.value], bounds[gate.bound]
        passed = value < bound if gate.relation == "<" else value > bound
        if not passed:
            failures.append(f"{gate.label} = {value:.6g}, gate {gate.relation} {bound} (off by {abs(value - bound):.3g})")
    return failures


def outcome(spec: RunSpec, history: dict) -> Outcome | None:
    """Why the run is not a success; None when it trained to the end and passed its gates."""
    if history.get("diverged"):
        return Outcome(DIVERGED, describe_divergence(history["diverged"]))
    values = {**history["epochs"][-1], **history.get("param_errors", {})}
    failures = gate_failures(spec.definition.gates, spec.gates, values)
    return Outcome(MISSED_GATES, "missed its gates: " + "; ".join(failures)) if failures else None


def tag(found: Outcome | None) -> str:
    """The run's `outcome` tag in MLflow: 'ok', or the outcome's message."""
    return found.message if found else OK


def status(spec: RunSpec, found: Outcome | None) -> str:
    """The MLflow status a run that trained ends in. FAILED is for a run that could not do its job:
    a default run with an outcome (it stops its job; a run that crashed ends FAILED too, in
    nndl.tracking.run). A study run ends FINISHED whatever its outcome: a run that diverged or
    missed its gates is a finding, said by its `outcome` tag and the study's report."""
    return "FAILED" if found and spec.study is None else "FINISHED"


def error_for(spec: RunSpec, found: Outcome | None) -> DivergenceError | GateError | None:
    """The error, with its fix, that stops a default run that did not succeed; None if it did."""
    if found is None:
        return None
    if found.kind == DIVERGED:
        return DivergenceError(f"{spec.name} {found.message}. The learning rate is probably too large for this task.")
    return GateError(f"{spec.name} {found.message}. Check the hyperparameters, or relax gates.{spec.task} in the config.")
