"""Katib's GJSON success/failure conditions over objects shaped like real Jobs, TFJobs and Workflows.

Fixtures are hand-written from the Go types (names end in ``_from_types``, reference
``docs/kind.md#fakes``) until kind e2e snapshots replace them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from katibsim.k8s.conditions import DEFAULT_CONDITIONS, MISSING, ConditionSyntaxError, evaluate, match, parse
from katibsim.k8s.status import Phase, job_status

JOB_OK, JOB_FAIL = DEFAULT_CONDITIONS["Job"]
TF_OK, TF_FAIL = DEFAULT_CONDITIONS["TFJob"]


def cond(t: str, s: str = "True", reason: str = "", message: str = "") -> dict:
    return {"type": t, "status": s, "reason": reason, "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z"}


job_running_from_types = {"apiVersion": "batch/v1", "kind": "Job", "status": {"active": 1, "ready": 1}}
job_complete_from_types = {"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 1, "conditions": [
    cond("SuccessCriteriaMet", reason="CompletionsReached"),
    cond("Complete", reason="CompletionsReached", message="Reached expected number of succeeded pods")]}}
job_failure_target_only_from_types = {"apiVersion": "batch/v1", "kind": "Job", "status": {"conditions": [
    cond("FailureTarget", reason="BackoffLimitExceeded")]}}
job_failed_from_types = {"apiVersion": "batch/v1", "kind": "Job", "status": {"failed": 2, "conditions": [
    cond("FailureTarget", reason="BackoffLimitExceeded"),
    cond("Failed", reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit")]}}
tfjob_restarting_from_types = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "status": {"conditions": [
    cond("Created", reason="TFJobCreated"), cond("Restarting", reason="TFJobRestarting")]}}
tfjob_succeeded_not_last_from_types = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "status": {"conditions": [
    cond("Created"), cond("Succeeded", reason="TFJobSucceeded", message="TFJob t is successfully completed."),
    cond("Running", "False", reason="TFJobRunning")]}}
tfjob_failed_from_types = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "status": {"conditions": [
    cond("Created"), cond("Running", "False"), cond("Failed", reason="TFJobFailed", message="1 Worker replica(s) failed")]}}
tfjob_succeeded_false_from_types = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "status": {"conditions": [
    cond("Succeeded", "False")]}}


@pytest.mark.parametrize("obj, phase, reason", [
    (job_running_from_types, Phase.RUNNING, ""),
    (job_complete_from_types, Phase.SUCCEEDED, "CompletionsReached"),
    (job_failure_target_only_from_types, Phase.RUNNING, ""),  # interim: not the end
    (job_failed_from_types, Phase.FAILED, "BackoffLimitExceeded"),
])
def test_job_defaults(obj, phase, reason):
    got = job_status(obj, JOB_OK, JOB_FAIL)
    assert got.phase == phase and got.reason == reason


@pytest.mark.parametrize("obj, phase", [
    (tfjob_restarting_from_types, Phase.RUNNING),
    (tfjob_succeeded_not_last_from_types, Phase.SUCCEEDED),  # found anywhere in the list
    (tfjob_failed_from_types, Phase.FAILED),
    (tfjob_succeeded_false_from_types, Phase.RUNNING),
    ({"kind": "TFJob"}, Phase.RUNNING),  # no status yet
])
def test_tfjob_defaults(obj, phase):
    assert job_status(obj, TF_OK, TF_FAIL).phase == phase


def test_failure_is_checked_first_and_carries_reason_and_message():
    both = {"status": {"conditions": [cond("Complete"), cond("Failed", reason="R", message="M")]}}
    got = job_status(both, JOB_OK, JOB_FAIL)
    assert (got.phase, got.reason, got.message) == (Phase.FAILED, "R", "M")


def test_argo_workflow_conditions_from_katibs_example():
    ok = 'status.[@this].#(phase=="Succeeded")#'
    bad = 'status.[@this].#(phase=="Failed")#'
    wf = {"status": {"phase": "Succeeded", "message": "done"}}
    assert job_status(wf, ok, bad).phase == Phase.SUCCEEDED
    assert job_status({"status": {"phase": "Running"}}, ok, bad).phase == Phase.RUNNING
    assert job_status({"status": {"phase": "Failed"}}, ok, bad).phase == Phase.FAILED


def test_tekton_conditions_from_katibs_example():
    ok = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    bad = 'status.conditions.#(type=="Succeeded")#|#(status=="False")#'
    run = {"status": {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]}}
    assert job_status(run, ok, bad).phase == Phase.RUNNING
    run["status"]["conditions"][0]["status"] = "False"
    assert job_status(run, ok, bad).phase == Phase.FAILED


def test_gjson_semantics_of_the_subset():
    obj = {"a": {"b.c": 1, "list": [{"n": 1, "s": "x1"}, {"n": 5, "s": "y"}, {"n": 9, "s": "x2"}]}}
    assert evaluate(r"a.b\.c", obj) == 1
    assert evaluate("a.list.#", obj) == 3
    assert evaluate("a.list.1.s", obj) == "y"
    assert evaluate("a.list.#.n", obj) == [1, 5, 9]
    assert evaluate("a.list.#(n>4).s", obj) == "y"
    assert evaluate("a.list.#(n>4)#.s", obj) == ["y", "x2"]
    assert evaluate("a.list.#(n>4)#|#", obj) == 2
    assert evaluate('a.list.#(s%"x*")#.n', obj) == [1, 9]
    assert evaluate('a.list.#(s!%"x*")#.n', obj) == [5]
    assert evaluate("a.list.#(n>=9)#.n", obj) == [9]
    assert evaluate('a.list.#(s=="nope")#', obj) == []
    assert evaluate('a.list.#(s=="nope")', obj) is MISSING
    assert evaluate("a.list.#(s)#|#", obj) == 3  # no operator: the key exists
    assert evaluate('a.list.#(n=="1")#', obj) == []  # types must agree, as in GJSON
    assert evaluate("a.missing.x", obj) is MISSING
    assert match('a.list.#(s=="nope")#', obj) is None  # an empty array does not match
    assert match("a.list.#(n>4)#", obj) == {"n": 5, "s": "y"}
    assert match("a.b\\.c", obj) is None  # a number is neither an object nor an array


@pytest.mark.parametrize("expr, what", [
    ("status.conditions.@reverse", "@reverse"),
    ("status.*.x", "wildcards"),
    ('status.conditions.#(type=="a").#(x==1)', None),  # fine: two queries in a row
    ('status.conditions.#(nested.#(a==1))', "nested queries"),
    ("status.{a,b}", "JSON objects"),
    ('status.#(type=~"x")', "truthy"),
    ("status.", "ends with a separator"),
    ("", "empty"),
    ('status.#(type=="unterminated)', "unclosed"),
])
def test_unsupported_syntax_is_an_error_naming_the_column(expr, what):
    if what is None:
        parse(expr)
        return
    with pytest.raises(ConditionSyntaxError) as err:
        parse(expr, field="spec.trialTemplate.successCondition")
    assert what in str(err.value)
    assert "spec.trialTemplate.successCondition" in str(err.value) and "column" in str(err.value)


@given(hst.lists(hst.fixed_dictionaries({"type": hst.sampled_from(["Created", "Running", "Succeeded", "Failed",
                                                                    "Restarting"]),
                                          "status": hst.sampled_from(["True", "False", "Unknown"])}), max_size=6))
def test_default_tfjob_condition_is_any_true_succeeded(conds):
    """Property: the default success condition matches iff some Succeeded condition is True, wherever it is."""
    obj = {"status": {"conditions": conds}}
    expected = any(c["type"] == "Succeeded" and c["status"] == "True" for c in conds)
    assert (match(TF_OK, obj) is not None) == expected
