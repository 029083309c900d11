"""Experiment documents for the spec tests: valid bases to mutate, and helpers to check problems."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import yaml

from katibsim.errors import FieldError
from katibsim.spec.loader import experiment_from_dict, parse_experiment
from katibsim.spec.validation import merge_problems, validate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "tfjob-bayesian.yaml"

V1BETA1_DOC: dict[str, Any] = yaml.safe_load(
    """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: random-job
  namespace: kubeflow
spec:
  objective:
    type: maximize
    goal: 0.9
    objectiveMetricName: accuracy
    additionalMetricNames: [loss]
  algorithm:
    algorithmName: random
  parallelTrialCount: 2
  maxTrialCount: 6
  maxFailedTrialCount: 2
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.01", max: "0.1"}
    - name: layers
      parameterType: int
      feasibleSpace: {min: "1", max: "4"}
    - name: optimizer
      parameterType: categorical
      feasibleSpace: {list: [sgd, adam]}
  trialTemplate:
    primaryContainerName: training
    trialParameters:
      - {name: learningRate, reference: lr}
      - {name: numLayers, reference: layers}
      - {name: optimizer, reference: optimizer}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training
                image: busybox
                command:
                  - sh
                  - -c
                  - echo --lr=${trialParameters.learningRate} --layers=${trialParameters.numLayers} --opt=${trialParameters.optimizer}
            restartPolicy: Never
"""
)

V1ALPHA3_DOC: dict[str, Any] = yaml.safe_load(SEED.read_text())


def v1beta1(mutate: Callable[[dict], Any] | None = None) -> dict:
    doc = copy.deepcopy(V1BETA1_DOC)
    if mutate is not None:
        mutate(doc)
    return doc


def v1alpha3(mutate: Callable[[dict], Any] | None = None) -> dict:
    doc = copy.deepcopy(V1ALPHA3_DOC)
    if mutate is not None:
        mutate(doc)
    return doc


def problems(doc: dict, file: str | None = "exp.yaml") -> list[FieldError]:
    """Reading problems and validation problems of one document, as ``katibsim validate`` merges them."""
    exp, reading = parse_experiment(doc, file=file)
    assert exp is not None, reading
    return merge_problems(reading, validate(exp))


def errors(doc: dict, file: str | None = "exp.yaml") -> list[FieldError]:
    return [p for p in problems(doc, file) if p.severity == "error"]


def warnings(doc: dict, file: str | None = "exp.yaml") -> list[FieldError]:
    return [p for p in problems(doc, file) if p.severity == "warning"]


def at(found: list[FieldError], path: str) -> list[FieldError]:
    return [p for p in found if p.path == path]


def one(found: list[FieldError], path: str, contains: str) -> FieldError:
    """The single problem at ``path`` whose message contains ``contains`` (asserts there is one)."""
    hits = [p for p in found if p.path == path and contains in p.message]
    assert len(hits) == 1, f"expected one problem at {path} containing {contains!r}; got:\n" + "\n".join(
        p.render() for p in found
    )
    return hits[0]


def exp_of(doc: dict):
    return experiment_from_dict(doc, file="exp.yaml")
