"""Export an action dataset (clips with commands, e.g. `push`) in LeRobot's dataset format
(v3.0, the layout `lerobot.datasets.LeRobotDataset` reads), written with pyarrow alone:

    OUT/meta/info.json                               fps, features, counts, path templates
    OUT/meta/stats.json                              min/max/mean/std/count per feature
    OUT/meta/tasks.parquet                           task (index) -> task_index
    OUT/meta/episodes/chunk-000/file-000.parquet     one row per episode: length, task, where its
                                                     frames and video are, its own stats
    OUT/data/chunk-000/file-000.parquet              one row per frame: observation.state, action,
                                                     timestamp, frame_index, episode_index, index,
                                                     task_index
    OUT/videos/observation.images.top/chunk-000/file-NNN.mp4   one H.264 file per episode

One clip is one episode; its first caption is the task. `observation.state` is [x, y, vx, vy] of
every object (m, m/s; y up), zero-padded to the dataset's largest object count; `action` row t is
the command applied from frame t to t + 1 (orrery's convention, which is LeRobot's)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import write_bytes, write_text, write_with
from .dataset import ClipStore, padding
from .manifest import SPLITS
from .video import rgb_to_yuv444

CODEBASE_VERSION = "v3.0"
VIDEO_KEY = "observation.images.top"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"


def _stats(x: np.ndarray, axis) -> dict:
    x = np.asarray(x, np.float64)
    return {"min": x.min(axis=axis).tolist(), "max": x.max(axis=axis).tolist(), "mean": x.mean(axis=axis).tolist(),
            "std": x.std(axis=axis).tolist(), "count": [int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))]}


def _image_stats(frames: np.ndarray) -> dict:
    """Per-channel stats of frames scaled to [0, 1], shaped [3, 1, 1] as LeRobot keeps them."""
    s = _stats(frames.reshape(-1, 3) / 255.0, 0)
    return {k: (np.asarray(v).reshape(3, 1, 1).tolist() if k != "count" else v) for k, v in s.items()}


def _merge(parts: list[dict]) -> dict:
    """Stats of the union from per-episode stats (count-weighted mean and variance)."""
    n = np.array([p["count"][0] for p in parts], np.float64)
    mean = np.array([p["mean"] for p in parts], np.float64)
    var = np.array([p["std"] for p in parts], np.float64) ** 2
    w = (n / n.sum()).reshape((-1,) + (1,) * (mean.ndim - 1))
    mu = (w * mean).sum(0)
    sd = np.sqrt((w * (var + (mean - mu) ** 2)).sum(0))
    return {"min": np.min([p["min"] for p in parts], 0).tolist(), "max": np.max([p["max"] for p in parts], 0).tolist(),
            "mean": mu.tolist(), "std": sd.tolist(), "count": [int(n.sum())]}


def episode_video(frames: np.ndarray, fps: float, crf: int = 12) -> bytes:
    """An episode's MP4 as LeRobot seeks in it: frame i presented at i / fps exactly (no B-frame
    delay, a plain moov), H.264 4:4:4 full range like orrery's shards."""
    import io
    from fractions import Fraction

    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.pix_fmt = "yuv444p"
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.options = {"crf": str(crf), "preset": "veryfast", "bf": "0", "threads": "1"}
        stream.codec_context.color_range = 2
        for i, planes in enumerate(rgb_to_yuv444(frames)):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv444p")
            frame.color_range, frame.pts = 2, i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _tasks_table(tasks: list[str]) -> pa.Table:
    """meta/tasks.parquet: the task strings as the (pandas) index, task_index as the column."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())})
    pandas_meta = {"index_columns": ["task"], "column_indexes": [], "creator": {"library": "pyarrow"},
                   "columns": [{"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
                                "numpy_type": "int64", "metadata": None},
                               {"name": "task", "field_name": "task", "pandas_type": "unicode",
                                "numpy_type": "object", "metadata": None}], "pandas_version": "2.2.0"}
    return table.replace_schema_metadata({"pandas": json.dumps(pandas_meta)})


def export_lerobot(data: str | Path, out: str | Path, splits: tuple[str, ...] = ("train",),
                   robot_type: str = "orrery-pusher") -> dict:
    """Write the clips of `splits` of dataset folder `data` as a LeRobot dataset in `out` (an
    empty or missing folder). Clips without actions are refused: LeRobot datasets are action data."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"--out {out}: folder is not empty; export into a new folder")
    stores = [ClipStore(data, s) for s in splits if s in SPLITS]
    n_objects = max(padding(st)[0] for st in stores)
    action_dim = max(padding(st)[1] for st in stores)
    if action_dim == 0:
        raise ValueError(f"{data}: no clip of {list(splits)} has actions; LeRobot export is for action data "
                         "(e.g. the push scenario)")
    frames_rows: dict[str, list] = {k: [] for k in ("observation.state", "action", "timestamp", "frame_index",
                                                    "episode_index", "index", "task_index")}
    episodes: list[dict] = []
    tasks: list[str] = []
    all_stats: dict[str, list[dict]] = {"observation.state": [], "action": [], VIDEO_KEY: [], "timestamp": []}
    fps = size = None
    index = 0
    for store in stores:
        for i in range(len(store)):
            clip = store.clip(i)
            if clip.actions is None or not clip.actions.size:
                raise ValueError(f"{data}: clip {clip.key} has no actions; export only action data (--split)")
            t = clip.frames.shape[0]
            fps = fps or clip.fps
            size = size or clip.frames.shape[1:3]
            if clip.fps != fps or clip.frames.shape[1:3] != size:
                raise ValueError(f"{data}: clip {clip.key}: {clip.fps} fps {clip.frames.shape[1:3]}, but the first "
                                 f"clip is {fps} fps {size}; LeRobot keeps one format per dataset")
            pos, vel = clip.state("position"), clip.state("velocity")
            state = np.zeros((t, n_objects, 4), np.float32)
            state[:, :pos.shape[1], :2], state[:, :pos.shape[1], 2:] = pos, vel
            state = state.reshape(t, -1)
            action = np.zeros((t, action_dim), np.float32)
            action[:len(clip.actions), :clip.actions.shape[1]] = clip.actions
            task = clip.captions[0] if clip.captions else clip.scenario
            if task not in tasks:
                tasks.append(task)
            ep = len(episodes)
            ts = (np.arange(t) / fps).astype(np.float32)
            frames_rows["observation.state"] += list(state)
            frames_rows["action"] += list(action)
            frames_rows["timestamp"] += ts.tolist()
            frames_rows["frame_index"] += list(range(t))
            frames_rows["episode_index"] += [ep] * t
            frames_rows["index"] += list(range(index, index + t))
            frames_rows["task_index"] += [tasks.index(task)] * t
            write_bytes(out / VIDEO_PATH.format(video_key=VIDEO_KEY, chunk_index=0, file_index=ep),
                        episode_video(clip.frames, fps))
            st = {"observation.state": _stats(state, 0), "action": _stats(action, 0),
                  VIDEO_KEY: _image_stats(clip.frames), "timestamp": _stats(ts[:, None], 0)}
            for k, v in st.items():
                all_stats[k].append(v)
            episodes.append({"episode_index": ep, "tasks": [task], "length": t, "orrery_key": clip.key,
                             "data/chunk_index": 0, "data/file_index": 0, "dataset_from_index": index,
                             "dataset_to_index": index + t, f"videos/{VIDEO_KEY}/chunk_index": 0,
                             f"videos/{VIDEO_KEY}/file_index": ep, f"videos/{VIDEO_KEY}/from_timestamp": 0.0,
                             f"videos/{VIDEO_KEY}/to_timestamp": t / fps, "meta/episodes/chunk_index": 0,
                             "meta/episodes/file_index": 0,
                             **{f"stats/{k}/{s}": v for k, d in st.items() for s, v in d.items()}})
            index += t
    _write_tables(out, frames_rows, episodes, tasks, n_objects, action_dim)
    stats = {k: _merge(v) for k, v in all_stats.items()}
    h, w = size
    names = [f"object{k}.{q}" for k in range(n_objects) for q in ("x", "y", "vx", "vy")]
    info = {"codebase_version": CODEBASE_VERSION, "robot_type": robot_type, "total_episodes": len(episodes),
            "total_frames": index, "total_tasks": len(tasks), "chunks_size": 1000, "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 200, "fps": int(round(fps)), "splits": {"train": f"0:{len(episodes)}"},
            "data_path": DATA_PATH, "video_path": VIDEO_PATH, "features": {
                "observation.state": {"dtype": "float32", "shape": [4 * n_objects], "names": names},
                "action": {"dtype": "float32", "shape": [action_dim], "names": [f"command{k}" for k in range(action_dim)]},
                VIDEO_KEY: {"dtype": "video", "shape": [h, w, 3], "names": ["height", "width", "channels"],
                            "info": {"video.height": h, "video.width": w, "video.codec": "h264",
                                     "video.pix_fmt": "yuv444p", "video.is_depth_map": False, "video.fps": int(round(fps)),
                                     "video.channels": 3, "has_audio": False}},
                "timestamp": {"dtype": "float32", "shape": [1], "names": None},
                "frame_index": {"dtype": "int64", "shape": [1], "names": None},
                "episode_index": {"dtype": "int64", "shape": [1], "names": None},
                "index": {"dtype": "int64", "shape": [1], "names": None},
                "task_index": {"dtype": "int64", "shape": [1], "names": None}}}
    write_text(out / "meta" / "info.json", json.dumps(info, indent=2))
    write_text(out / "meta" / "stats.json", json.dumps(stats, indent=2))
    return {"out": str(out), "episodes": len(episodes), "frames": index, "tasks": len(tasks)}


def _write_tables(out: Path, rows: dict, episodes: list[dict], tasks: list[str], n_objects: int,
                  action_dim: int) -> None:
    frames = pa.table({
        "observation.state": pa.array([r.tolist() for r in rows["observation.state"]],
                                      pa.list_(pa.float32(), 4 * n_objects)),
        "action": pa.array([r.tolist() for r in rows["action"]], pa.list_(pa.float32(), action_dim)),
        "timestamp": pa.array(rows["timestamp"], pa.float32()),
        **{k: pa.array(rows[k], pa.int64()) for k in ("frame_index", "episode_index", "index", "task_index")}})
    write_with(out / DATA_PATH.format(chunk_index=0, file_index=0), lambda tmp: pq.write_table(frames, tmp))
    eps = pa.Table.from_pylist(episodes)
    write_with(out / "meta/episodes/chunk-000/file-000.parquet", lambda tmp: pq.write_table(eps, tmp))
    write_with(out / "meta/tasks.parquet", lambda tmp: pq.write_table(_tasks_table(tasks), tmp))
