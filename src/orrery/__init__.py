"""orrery: physically exact synthetic video, world models, and their measurement against physical laws."""

__version__ = "0.1.0"
