"""Whether a run is a success, as data: None, or an Outcome with a kind and a message.

Readers branch on `kind`; the message is made here, once, for people (the MLflow `outcome` tag, the
study table, the job's error), and never parsed back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nndl.errors import DivergenceError, GateError

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


def gate_failures(task: str, gates: dict, final: dict, errors: dict | None = None) -> list[str]:
    """Each missed gate as 'what = value, gate < bound (off by x)'; empty when all pass."""
    if task == "softmax":
        checks = [("train/loss", final["train/loss"], "<", gates["max_train_loss"]),
                  ("train/accuracy", final["train/accuracy"], ">", gates["min_train_accuracy"]),
                  ("test/accuracy", final["test/accuracy"], ">", gates["min_test_accuracy"])]
    else:
        bound = gates["max_param_error"]
        checks = [("max |w error|", errors["max_abs_w_error"], "<", bound),
                  ("|b error|", errors["abs_b_error"], "<", bound)]
    failures = []
    for name, value, relation, bound in checks:
        passed = value < bound if relation == "<" else value > bound
        if not passed:
            failures.append(f"{name} = {value:.6g}, gate {relation} {bound} (off by {abs(value - bound):.3g})")
    return failures


def outcome(spec: dict, history: dict) -> Outcome | None:
    """Why the run is not a success; None when it trained to the end and passed its gates."""
    if history.get("diverged"):
        return Outcome(DIVERGED, describe_divergence(history["diverged"]))
    failures = gate_failures(spec["task"], spec["gates"], history["epochs"][-1], history.get("param_errors"))
    return Outcome(MISSED_GATES, "missed its gates: " + "; ".join(failures)) if failures else None


def tag(found: Outcome | None) -> str:
    """The run's `outcome` tag in MLflow: 'ok', or the outcome's message."""
    return found.message if found else OK


def status(found: Outcome | None) -> str:
    """The MLflow status a finished run ends in: FINISHED, or FAILED when it has an outcome."""
    return "FAILED" if found else "FINISHED"


def raise_for(spec: dict, found: Outcome | None) -> None:
    """A default run must succeed: raise DivergenceError or GateError, with the fix, if it did not."""
    if found is None:
        return
    if found.kind == DIVERGED:
        raise DivergenceError(f"{spec['name']} {found.message}. The learning rate is probably too large for this task.")
    raise GateError(f"{spec['name']} {found.message}. Check the hyperparameters, or relax gates.{spec['task']} "
                    "in the config.")
