"""The theory's predictions: each function on a case with a known answer, and predictions that move
with the data as the theory says (none is a constant)."""

import math
from dataclasses import replace

import numpy as np
import pytest

from conftest import trained_runs

from nndl.data.synthetic import make_dataset, save_dataset
from nndl.runs import outcome
from nndl.tasks.runspec import RunSpec
from nndl.tasks import registry
from nndl.theory import fit_iterate, linear, linreg_errors, linreg_rates, softmax_studies
from nndl.theory.choose import prediction_for, theory
from nndl.theory.verdict import AGREES, DISAGREES, INCONCLUSIVE, overall, within_factor

# Inputs with orthogonal columns: X~^T X~ / n = diag(0.5, 2, 1) (the last column is the bias's ones).
ORTHOGONAL = np.array([[1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, -2.0, 1.0]])


# A run's settings and data blocks as the config's schema fills them in.
HYPERPARAMETERS = {"batch_size": 10, "learning_rate": 0.03, "epochs": 3, "init_std": 0.01, "init": "normal",
                   "reduction": "mean", "shuffle": True}
SYNTHETIC = {"true_w": [2.0, -3.4], "true_b": 4.2, "n_train": 1000, "n_test": 50, "noise_std": 0.01, "seed": 0,
             "noise": "gaussian", "outliers": 0, "outlier_size": 20.0}


def run_spec(task: str, data: dict, impl: str = "scratch", **settings) -> RunSpec:
    """A default run's spec of `task`, through the JSON form a rule's params hand it in."""
    return RunSpec.from_json({"name": f"{task}-{impl}-seed0", "task": task, "impl": impl, "seed": 0,
                              **HYPERPARAMETERS, **settings, "data": data, "gates": {}, "n_predictions": 0,
                              "device": "cpu", "threads": 1, "dir": ""})


def linreg_spec(path: str = "unused.npz", block: dict = SYNTHETIC, impl: str = "scratch", **settings) -> RunSpec:
    data = {"digest": "test", "path": str(path), "description": str(path).replace(".npz", ".json"), **block}
    return run_spec("linreg", data, impl, **{"loss": "squared", "huber_delta": 1.0, **settings})


def with_settings(spec: RunSpec, **values) -> RunSpec:
    return replace(spec, settings=replace(spec.settings, **values))


def test_the_hessian_of_orthogonal_inputs_is_diagonal_and_sets_the_threshold():
    assert np.allclose(linear.hessian(ORTHOGONAL), np.diag([0.5, 2.0, 1.0]))
    spec = linreg_spec(batch_size=10, reduction="mean")
    assert linear.curvature(spec) == 1.0
    assert linear.curvature(replace(spec, impl="concise")) == 2.0  # nn.MSELoss has no 1/2
    assert linear.curvature(with_settings(spec, reduction="sum")) == 10.0


def test_gradient_descent_in_closed_form_is_the_iteration():
    H, theta_star = np.diag([0.5, 2.0]), np.array([1.0, -1.0])
    theta = np.zeros(2)
    for _ in range(7):
        theta = theta - 0.3 * H @ (theta - theta_star)
    assert np.allclose(linear.gd_iterate(H, theta_star, np.zeros(2), 0.3, 7), theta)
    assert np.allclose(linear.contraction(H, 0.3, 7), np.diag([(1 - 0.15) ** 7, (1 - 0.6) ** 7]))


def test_least_squares_of_two_points_is_the_line_through_them():
    X = np.array([[0.0, 1.0], [1.0, 1.0]])  # x = 0 and x = 1, with the bias column
    assert np.allclose(linear.least_squares(X, np.array([1.0, 3.0])), [2.0, 1.0])
    assert linear.half_mse(X, np.array([1.0, 3.0]), np.array([2.0, 1.0])) == pytest.approx(0.0, abs=1e-12)


def test_full_batches_are_mean_square_stable_up_to_gradient_descents_limit_and_small_ones_less():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((200, 2)), np.ones((200, 1))])
    gd_limit = 2 / np.linalg.eigvalsh(linear.hessian(X)).max()
    assert linear.mean_square_stable_rate(X, batch_size=200) == pytest.approx(gd_limit, rel=1e-6)
    assert linear.mean_square_stable_rate(X, batch_size=1) < linear.mean_square_stable_rate(X, batch_size=10) < gd_limit


def test_expected_max_abs_of_known_cases():
    assert linear.expected_max_abs(np.array([3.0, -1.0]), np.zeros(2)) == 3.0
    # E|z| for a standard normal is sqrt(2 / pi)
    assert linear.expected_max_abs(np.zeros(1), np.ones(1)) == pytest.approx(math.sqrt(2 / math.pi), rel=0.02)


def test_the_first_overflow_is_the_first_logit_above_ln_float32_max():
    assert softmax_studies.LN_FLOAT32_MAX == pytest.approx(88.7228, abs=1e-4)
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float32(88.73))) and np.isfinite(np.exp(np.float32(88.72)))
    assert softmax_studies.first_overflow_step([10.0, 50.0, 88.7, 88.8, 200.0]) == 4
    assert softmax_studies.first_overflow_step([1.0, 2.0]) is None


def test_the_verdict_is_agrees_only_when_every_decided_check_agrees():
    assert overall([{"agrees": True}, {"agrees": None}]) == AGREES
    assert overall([{"agrees": True}, {"agrees": False}]) == DISAGREES
    assert overall([{"agrees": None}]) == INCONCLUSIVE == overall([])


def synthetic_spec(folder, scale=1.0, noise_std=0.01, n_train=1000, outliers=0, **settings) -> RunSpec:
    """A linreg run spec whose data (inputs scaled by `scale`) is written to `folder`."""
    block = {**SYNTHETIC, "n_train": n_train, "noise_std": noise_std, "outliers": outliers}
    arrays = make_dataset(**block)
    arrays["X_train"] = arrays["X_train"] * np.float32(scale)
    path = folder / f"data-{scale}-{noise_std}-{n_train}-{outliers}.npz"
    save_dataset(arrays, path, path.with_suffix(".json"), block)
    return linreg_spec(path, block, **settings)


def run_row(spec, point, kind=outcome.OK, train_loss=(0.01,), value=0.001, seed=0):
    return {"spec": spec, "point": point, "kind": kind, "value": value, "impl": spec.impl, "seed": seed,
            "train_loss": list(train_loss), "test_metric": list(train_loss), "history": {}}


LR_STUDY = {"name": "lr", "task": "linreg", "impls": ["scratch"], "vary": {"learning_rate": [0.03, 30.0]},
            "metric": "final/train_loss"}


def test_scaling_the_inputs_by_two_quarters_the_predicted_threshold(tmp_path):
    thresholds = {}
    for scale in (1.0, 2.0):
        spec = synthetic_spec(tmp_path, scale=scale)
        runs = [run_row(with_settings(spec, learning_rate=0.03), {"learning_rate": 0.03}),
                run_row(with_settings(spec, learning_rate=30.0), {"learning_rate": 30.0}, kind=outcome.DIVERGED,
                        train_loss=())]
        block = linreg_rates.learning_rate(LR_STUDY, runs)
        thresholds[scale] = block.predicted
        assert block.verdict == AGREES and block.measured == pytest.approx((0.03 + 30.0) / 2)
    assert thresholds[1.0] / thresholds[2.0] == pytest.approx(4.0, rel=0.03)
    assert thresholds[1.0] == pytest.approx(2 / np.linalg.eigvalsh(linear.hessian(linear.training_data(
        synthetic_spec(tmp_path))[0])).max())


def test_the_predicted_error_grows_with_the_noise_and_the_outliers(tmp_path):
    converged = {"batch_size": 10_000, "learning_rate": 0.5, "epochs": 50}  # full batches, to convergence
    quiet = linreg_errors.predicted_w_error(synthetic_spec(tmp_path, noise_std=0.01, **converged))
    loud = linreg_errors.predicted_w_error(synthetic_spec(tmp_path, noise_std=0.1, **converged))
    assert loud / quiet == pytest.approx(10.0, rel=0.01)  # the least-squares error is proportional to sigma
    clean = linreg_errors.predicted_w_error(synthetic_spec(tmp_path, **converged))
    corrupted = linreg_errors.predicted_w_error(synthetic_spec(tmp_path, outliers=50, **converged))
    assert corrupted > 20 * clean


def test_the_summed_loss_rate_predicted_is_the_mean_rate_over_the_batch_size(tmp_path):
    study = {"name": "sum", "task": "linreg", "vary": {"reduction": ["mean", "sum"], "learning_rate": [0.03, 0.006, 0.003]},
             "metric": "final/test_mse"}
    spec = synthetic_spec(tmp_path, batch_size=5)
    same, other = [0.5, 0.1, 0.01], [0.5, 0.2, 0.05]
    runs = [run_row(spec, {"reduction": "mean", "learning_rate": 0.03}, train_loss=same),
            run_row(spec, {"reduction": "sum", "learning_rate": 0.006}, train_loss=same),
            run_row(spec, {"reduction": "sum", "learning_rate": 0.003}, train_loss=other)]
    block = linreg_rates.summed_loss(study, runs)
    assert (block.predicted, block.measured, block.verdict) == (pytest.approx(0.006), 0.006, AGREES)
    runs[1]["train_loss"] = runs[1]["test_metric"] = [0.5, 0.1, 0.02]  # no longer the same trajectory
    assert linreg_rates.summed_loss(study, runs).verdict == DISAGREES


def test_a_study_gets_the_prediction_of_what_it_varies_or_says_there_is_none():
    assert prediction_for(LR_STUDY) is linreg_rates.learning_rate
    error = {**LR_STUDY, "metric": "final/max_abs_w_error"}
    assert prediction_for({**error, "vary": {"n_train": [5, 50, 500]}}) is linreg_errors.data_size
    assert prediction_for({**error, "vary": {"n_train": [1000, 1001]}}) is linreg_errors.partial_batch
    # Not about the w error, or two curvatures in one grid: where gradient descent's path ends.
    assert prediction_for({**LR_STUDY, "vary": {"n_train": [1000, 1001]}}) is fit_iterate.converged_fit
    assert prediction_for({**LR_STUDY, "impls": ["scratch", "concise"]}) is fit_iterate.converged_fit
    assert prediction_for({**LR_STUDY, "vary": {"loss": ["squared", "huber"]}}) is None  # no quadratic
    assert prediction_for({**LR_STUDY, "vary": {"n_train": [10, 20]}, "metric": "train_seconds"}) is None
    odd = {"name": "odd", "task": "softmax", "impls": ["concise"], "vary": {"init_std": [0.01, 0.1]},
           "metric": "final/test_accuracy"}
    block = theory(odd, []).to_json()
    assert set(block) >= {"prediction", "predicted", "measured", "verdict", "rule"}
    assert block["verdict"] == INCONCLUSIVE and "init_std" in block["prediction"]


def test_the_study_figure_draws_the_prediction_where_its_axis_has_a_place_for_it():
    from nndl.report.study_plots import study_metric

    group = {"point": {"learning_rate": 0.1}, "impl": "scratch", "mean": 0.5, "std": 0.1, "seeds": 3, "diverged": 0}
    marks = {"vlines": [{"x": 1.8, "label": "2/λmax = 1.8"}], "hlines": [{"y": 0.4, "label": "level"}],
             "lines": [{"x": [0.1, 1.0], "y": [0.5, 0.2], "label": "predicted"}]}
    numeric = {"name": "lr", "impls": ["scratch"], "vary": {"learning_rate": [0.1, 1.0]}}
    labels = study_metric(numeric, [group], "final/train_loss", marks).axes[0].get_legend_handles_labels()[1]
    assert {"theory: 2/λmax = 1.8", "theory: level", "theory: predicted"} <= set(labels)
    named = {"name": "f", "impls": ["scratch"], "vary": {"formula": ["stable", "naive"]}}
    named_group = {**group, "point": {"formula": "stable"}}
    labels = study_metric(named, [named_group], "final/train_loss", marks).axes[0].get_legend_handles_labels()[1]
    assert "theory: level" in labels and not any("2/λmax" in label or "predicted" in label for label in labels)


def test_a_run_started_at_the_least_squares_solution_is_predicted_to_stay_there(tmp_path):
    spec = synthetic_spec(tmp_path, outliers=50, batch_size=10_000)  # full batches: no SGD noise
    X, y = linear.training_data(spec)
    theta_star = linear.least_squares(X, y)
    error = np.abs(theta_star[:2] - np.array(spec.data.settings.true_w)).max()
    assert linreg_errors.predicted_w_error(spec, start=list(theta_star)) == pytest.approx(error, rel=1e-9)


def softmax_spec(formula="stable", impl="scratch") -> RunSpec:
    data = {"path": "resources/fashion-mnist", "manifest": "resources/fashion-mnist/manifest.json", "generate": None}
    return run_spec("softmax", data, impl, formula=formula, pixel_scale="1/255")


def softmax_row(point, seed=0, kind=outcome.OK, value=0.8, history=None, formula="stable", impl="scratch"):
    return {"spec": softmax_spec(formula, impl), "point": {**point, "formula": formula}, "kind": kind, "value": value,
            "impl": impl, "seed": seed, "train_loss": [0.5], "test_metric": [value], "history": history or {}}


def test_the_naive_run_is_predicted_to_fail_where_its_stable_twin_first_had_a_logit_above_ln_float32_max():
    study = {"name": "naive", "task": "softmax", "vary": {"pixel_scale": [1], "formula": ["stable", "naive"]},
             "metric": "final/test_accuracy"}
    stable = softmax_row({"pixel_scale": 1}, history={"max_logits": [30.0, 70.0, 95.0, 1e4]})
    naive = softmax_row({"pixel_scale": 1}, kind=outcome.DIVERGED, value=None, formula="naive",
                        history={"diverged": {"epoch": 1, "step": 3}, "max_logits": [30.0, 70.0, 95.0]})
    block = softmax_studies.naive_softmax(study, [stable, naive])
    assert (block.predicted, block.measured, block.verdict) == (3, 3, AGREES)
    naive["history"]["diverged"]["step"] = 2
    assert softmax_studies.naive_softmax(study, [stable, naive]).verdict == DISAGREES


def test_the_linear_scaling_rule_agrees_with_best_rates_in_proportion_and_not_with_a_fall():
    study = {"name": "blr", "task": "softmax", "vary": {"batch_size": [64, 256], "learning_rate": [0.01, 0.025, 0.1, 0.4]},
             "metric": "final/test_accuracy"}

    def rows(best):
        return [softmax_row({"batch_size": batch, "learning_rate": rate}, value=0.9 if rate == best[batch] else 0.8)
                for batch in (64, 256) for rate in (0.01, 0.025, 0.1, 0.4)]  # the best ones inside the grid

    block = softmax_studies.batch_lr(study, rows({64: 0.025, 256: 0.1}))
    assert (block.predicted, block.measured, block.verdict) == (4.0, pytest.approx(4.0), AGREES)
    assert softmax_studies.batch_lr(study, rows({64: 0.1, 256: 0.025})).verdict == DISAGREES


def test_no_shuffle_and_epochs_agree_within_the_seeds_noise_and_not_beyond():
    study = {"name": "s", "task": "softmax", "vary": {"shuffle": [True, False]}, "metric": "final/test_accuracy"}
    # Seeds 0.01 apart; without shuffling 0.001 higher: a difference within the noise.
    runs = [softmax_row({"shuffle": shuffle}, seed=seed, value=0.8 + 0.01 * seed + (0.0 if shuffle else 0.001))
            for shuffle in (True, False) for seed in range(3)]
    assert softmax_studies.no_shuffle(study, runs).verdict == AGREES
    for run in runs:
        if not run["point"]["shuffle"]:
            run["value"] += 0.2
    assert softmax_studies.no_shuffle(study, runs).verdict == DISAGREES
    long = {"name": "e", "task": "softmax", "vary": {"epochs": [4]}, "metric": "final/test_accuracy"}
    level = [softmax_row({"epochs": 4}, seed=seed) | {"test_metric": [0.70, 0.80, 0.81, 0.81]} for seed in range(2)]
    falling = [softmax_row({"epochs": 4}, seed=seed) | {"test_metric": [0.70, 0.85, 0.80, 0.75]} for seed in range(2)]
    assert softmax_studies.epochs(long, level).verdict == AGREES
    assert softmax_studies.epochs(long, falling).verdict == DISAGREES


def test_the_naive_cost_is_predicted_from_the_operations_count():
    study = {"name": "c", "task": "softmax", "vary": {"formula": ["stable", "naive"]}, "metric": "train_seconds"}
    runs = [softmax_row({}, seed=seed, value=seconds, formula=formula)
            for seed in range(3) for formula, seconds in (("stable", 2.0), ("naive", 2.0))]
    block = softmax_studies.naive_cost(study, runs)
    d, q = 784, 10
    assert block.predicted == pytest.approx((4 * d * q + 8 * q) / (4 * d * q + 10 * q))
    assert block.measured == pytest.approx(1.0) and block.verdict == AGREES


def test_a_task_outside_the_chapters_theory_says_why_it_has_no_prediction():
    why = registry.MLP.no_theory
    assert "not convex" in why
    study = {"name": "mlp-lr", "task": "mlp", "impls": ["scratch"], "vary": {"epochs": [1, 2]},
             "metric": "final/test_accuracy"}
    assert prediction_for(study) is None  # softmax regression's epochs study has one; this task has none
    block = theory(study, [])
    assert block.verdict == INCONCLUSIVE and block.prediction == f"No prediction: {why}"


@pytest.mark.parametrize("task, settings", [("weight_decay", {"weight_decay": 0.0}), ("weight_decay", {}),
                                            ("model_selection", {"degree": 1}), ("model_selection", {})])
def test_where_gradient_descents_path_ends_predicts_each_runs_losses_and_norm(task, settings, tmp_path):
    """Weight decay with lambda 0 and 3, model selection's line and cubic, trained for real: the path
    from each run's start on its own penalized quadratic ends within 1.25x of its test loss and ||w||
    (SGD scatters around it), and the verdict says so."""
    runs = trained_runs(registry.TASKS[task], tmp_path, **settings)
    for run in runs.values():
        spec, summary = run["record"].spec, run["metrics"]["summary"]
        end = fit_iterate.path_end(spec, run["history"]["start"])
        for metric in ("final/test_loss", "final/weight_norm"):
            assert within_factor(end[metric], summary[metric], fit_iterate.FACTOR), (spec.name, metric)
    study = {"name": "s", "task": task, "impls": ["scratch", "concise"], "vary": {"epochs": [3]},
             "metric": "final/test_loss"}
    rows = [{"spec": run["record"].spec, "history": run["history"], "impl": run["record"].spec.impl,
             "point": {"epochs": 3}, "value": run["metrics"]["summary"]["final/test_loss"]} for run in runs.values()]
    assert prediction_for(study) is fit_iterate.converged_fit
    assert fit_iterate.converged_fit(study, rows).verdict == AGREES
    assert fit_iterate.converged_fit(study, [{**row, "value": row["value"] * 2} for row in rows]).verdict == DISAGREES


def test_without_a_penalty_the_weights_the_examples_do_not_see_keep_their_start(tmp_path):
    """200 weights from 20 examples at lambda 0: the start's part outside the inputs' span is
    untouched by every step, so ||w|| ends at least that part's norm; lambda shrinks it by
    (1 - lr lambda) per step."""
    task = registry.TASKS["weight_decay"]
    for decay in (0.0, 3.0):
        spec = next(iter(trained_runs(task, tmp_path, weight_decay=decay, epochs=1).values()))["record"].spec
        X, _ = linear.training_data(spec)
        start = np.random.default_rng(0).standard_normal(X.shape[1])
        inputs = X[:, :-1]
        unseen = start[:-1] - np.linalg.pinv(inputs) @ (inputs @ start[:-1])  # the start outside the row space
        end = fit_iterate.path_end(spec, start.tolist())["final/weight_norm"]
        shrink = (1 - spec.settings.learning_rate * decay) ** linear.steps(spec, len(X))
        assert end >= np.linalg.norm(unseen) * shrink * (1 - 1e-9)
        assert end == pytest.approx(np.linalg.norm(unseen), rel=0.05) if decay == 0 else end < np.linalg.norm(unseen)
