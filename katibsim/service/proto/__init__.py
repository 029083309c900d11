"""Katib's ``api.v1.beta1`` protocol: the vendored ``api.proto`` and the modules grpcio-tools generates from it."""
