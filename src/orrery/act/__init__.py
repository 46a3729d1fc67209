"""orrery.act: acting with a world model — closed-loop planning (model-predictive control with
CEM) inside the model, executed in the true simulator (`orrery plan`). See docs/foundation.md."""
