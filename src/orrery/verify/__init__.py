"""A physics verifier that needs no ground truth: read the objects of a video from its pixels and
check the laws (free flight, energy, momentum, persistence, rigidity, interpenetration) on their
tracks alone. `verify_video(frames, fps, layout=None) -> Verdict`."""

from .verifier import LAWS, Verdict, verify_files, verify_video

__all__ = ["LAWS", "Verdict", "verify_files", "verify_video"]
