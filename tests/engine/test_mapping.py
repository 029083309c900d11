

def test_a_parameter_the_objective_ignores_gets_a_note():
    from katibsim.engine.mapping import domain_notes, resolve_mapping
    from katibsim.plugins import get_objective
    from katibsim.spec.model import FeasibleSpace, ParameterSpec
    from katibsim.spec.space import SearchSpace

    space = SearchSpace.from_specs([
        ParameterSpec("x", "double", FeasibleSpace(min="-2", max="10")),
        ParameterSpec("y", "double", FeasibleSpace(min="0", max="1")),
    ])
    objective = get_objective("seed-1d")
    mapping = resolve_mapping(space, objective)
    notes = domain_notes(space, objective, mapping)
    assert any("parameter y is not mapped" in n for n in notes), notes
    assert not any("parameter x is not mapped" in n for n in notes)
