"""Built-in simulated objectives (test functions, the seed function, the mnist-tfjob surrogate)."""
