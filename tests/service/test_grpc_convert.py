"""Katib's conversions: what the controller sends and what a service reads back lose nothing the
contract's algorithms use (assignments, condition, objective value, labels)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from katibsim.algorithm import Metric, ObjectiveInfo, Observation, Trial, TrialCondition
from katibsim.service import convert
from katibsim.service.proto import api_pb2 as api
from katibsim.spec.model import MetricStrategy, ObjectiveSpec
from katibsim.spec.space import Parameter, ParameterType, SearchSpace

SPACE = SearchSpace((
    Parameter("lr", ParameterType.DOUBLE, min=1e-5, max=1.0),
    Parameter("n", ParameterType.INT, min=1, max=64),
    Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam")),
    Parameter("bs", ParameterType.DISCRETE, values=("16", "32", "0.5")),
))
OBJ = ObjectiveSpec(type="maximize", objective_metric_name="acc", additional_metric_names=("loss",),
                    metric_strategies=(MetricStrategy("acc", "max"), MetricStrategy("loss", "min")))
INFO = ObjectiveInfo("acc", True)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(
    lr=st.floats(1e-5, 1.0), n=st.integers(1, 64), opt=st.sampled_from(["sgd", "adam"]),
    bs=st.sampled_from([16, 32, 0.5]), best=finite, latest=finite,
    condition=st.sampled_from([TrialCondition.SUCCEEDED, TrialCondition.RUNNING, TrialCondition.FAILED,
                               TrialCondition.EARLY_STOPPED, TrialCondition.KILLED]),
)
def test_trial_round_trip(lr, n, opt, bs, best, latest, condition):
    value = best if condition.is_completed else None
    obs = Observation((Metric("acc", None, best, latest), Metric("loss", 0.1, 0.3, 0.2))) if condition.is_completed else None
    t = Trial("t-1", {"lr": lr, "n": n, "opt": opt, "bs": bs}, condition, value, obs, labels={"k": "v"})
    (msg,) = convert.trials_message([t], OBJ)
    metrics = {m.name: m.value for m in msg.status.observation.metrics}
    if obs is not None:
        assert metrics == {"acc": str(best), "loss": "0.1"}  # each metric by its own strategy
    (back,) = convert.trials_from_message([msg], SPACE, INFO)
    assert back.assignment == t.assignment
    assert all(type(back.assignment[k]) is type(t.assignment[k]) for k in t.assignment)
    assert back.condition == condition
    assert back.value == value
    assert back.has_value == t.has_value
    # ConvertTrials copies Trial.spec.labels, which Katib's controller never sets: no labels go back.
    assert dict(msg.spec.labels) == {} and dict(back.labels) == {}


def test_reply_labels_travel_per_assignment():
    assignments = [{"lr": 0.1}, {"lr": 0.2}]
    labels = [{"pbt.suggestion.katib.kubeflow.org/generation": "1", "pbt.suggestion.katib.kubeflow.org/parent": "t-0"},
              {"pbt.suggestion.katib.kubeflow.org/generation": "0"}]
    reply = api.GetSuggestionsReply(parameter_assignments=convert.assignments_reply(assignments, labels))
    assert convert.labels_from_reply(reply) == labels
    assert convert.assignments_from_reply(reply, SPACE) == assignments
    # No labels, or not one mapping per assignment (the host's rule): none are sent.
    for given in (None, labels[:1]):
        reply = api.GetSuggestionsReply(parameter_assignments=convert.assignments_reply(assignments, given))
        assert convert.labels_from_reply(reply) == [{}, {}]


def test_spec_labels_in_a_request_are_read():
    """Katib's own server side: a labelled trial that comes back (from a user-made Trial with
    spec.labels, say) is read with its labels."""
    msg = api.Trial(name="t-1")
    msg.spec.labels["k"] = "v"
    (back,) = convert.trials_from_message([msg], SPACE, INFO)
    assert dict(back.labels) == {"k": "v"}


def test_controller_drops_what_katib_drops():
    keep = Trial("a", {"lr": 0.1}, TrialCondition.EARLY_STOPPED, 0.5, Observation((Metric("acc", 0.5, 0.5, 0.5),)))
    gone = [Trial("b", {"lr": 0.1}, TrialCondition.METRICS_UNAVAILABLE),
            Trial("c", {"lr": 0.1}, TrialCondition.EARLY_STOPPED)]
    assert [m.name for m in convert.trials_message([keep, *gone], OBJ)] == ["a"]


def test_max_falls_back_to_latest_and_unavailable_reads_as_no_value():
    assert convert.metric_value(Metric("acc", None, None, 0.25), "max") == "0.25"
    assert convert.metric_value(Metric("acc"), "latest") == "unavailable"
    msg = api.Trial(name="x")
    msg.status.condition = api.TrialStatus.SUCCEEDED
    msg.status.observation.metrics.append(api.Metric(name="acc", value="unavailable"))
    (back,) = convert.trials_from_message([msg], SPACE, INFO)
    assert back.value is None and not back.has_value


def test_times_are_rfc3339_whole_seconds():
    assert convert.format_time(61.7) == "1970-01-01T00:01:01Z"
    assert convert.parse_time("1970-01-01T00:01:01Z") == 61.0
    assert convert.format_time(None) == "" and convert.parse_time("") is None


def test_experiment_round_trip_keeps_katibs_strings(tmp_path):
    from katibsim.spec.loader import load_experiment

    path = tmp_path / "e.yaml"
    path.write_text("""\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: e}
spec:
  objective: {type: minimize, objectiveMetricName: loss, goal: 0.01}
  algorithm: {algorithmName: random, algorithmSettings: [{name: random_state, value: "3"}]}
  maxTrialCount: 5
  parallelTrialCount: 2
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "1e-4", max: "0.1", distribution: logUniform}}
    - {name: n, parameterType: int, feasibleSpace: {min: "1", max: "8"}}
  trialTemplate:
    primaryContainerName: c
    trialSpec: {apiVersion: batch/v1, kind: Job, spec: {template: {spec: {containers: [{name: c, image: x}]}}}}
""", encoding="utf-8")
    exp = load_experiment(path)
    msg = convert.experiment_message(exp)
    p0 = msg.spec.parameter_specs.parameters[0]
    assert (p0.feasible_space.min, p0.feasible_space.max, p0.feasible_space.distribution) == ("1e-4", "0.1", api.LOG_UNIFORM)
    assert msg.spec.objective.type == api.MINIMIZE and math.isclose(msg.spec.objective.goal, 0.01)
    assert [(s.name, s.value) for s in msg.spec.algorithm.algorithm_settings] == [("random_state", "3")]
    back = convert.experiment_from_message(msg)
    assert back.search_space() == exp.search_space()
    assert back.spec.max_trial_count == 5 and back.spec.parallel_trial_count == 2


def test_the_trial_names_an_algorithm_gives_travel_in_the_reply():
    """A served plugin's ``last_trial_names`` reach the controller as Katib's ``trial_name`` (in
    process the controller names the trials so), "" where the algorithm names none; a list of the
    wrong length is not sent."""
    assignments = [{"x": 1.0}, {"x": 2.0}]
    reply = api.GetSuggestionsReply(parameter_assignments=convert.assignments_reply(assignments, None, ["a-1", ""]))
    assert [pa.trial_name for pa in reply.parameter_assignments] == ["a-1", ""]
    short = convert.assignments_reply(assignments, None, ["only-one"])
    assert [pa.trial_name for pa in short] == ["", ""]
