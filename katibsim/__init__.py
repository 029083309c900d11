"""katibsim: declarative testing and simulation for Kubeflow Katib experiments."""

__version__ = "0.1.0"
