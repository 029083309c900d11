"""katibsim as a Katib suggestion / early-stopping service (``katibsim serve``) and as its client
(``simulate --suggestion-service``), over Katib's own gRPC protocol (``api.v1.beta1``)."""
