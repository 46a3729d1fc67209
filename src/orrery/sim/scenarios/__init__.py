"""Built-in scenarios, one file each; `orrery.sim.scenario.BUILTIN` names them."""
