"""Offscreen rendering (MUJOCO_GL=egl), a top-down map view and an episode video writer."""

from __future__ import annotations

import os

import mujoco
import numpy as np

from cadence.sim.errors import SimError
from cadence.sim.world import TOP_CAMERA


class FrameRenderer:
    """RGB frames of a model from a named camera (``top`` frames the whole map, ``front`` is the rover's).

    Args:
        model: The compiled world.
        width: Image width in pixels (at most the model's offscreen buffer, 640).
        height: Image height in pixels (at most 480).
    """

    def __init__(self, model: mujoco.MjModel, width: int = 640, height: int = 480) -> None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as err:  # GL back ends raise many types; translate them all
            raise SimError(
                f"offscreen rendering is unavailable (MUJOCO_GL={os.environ['MUJOCO_GL']}): {err}"
            ) from err
        self.model = model

    def render(self, data: mujoco.MjData, camera: str = TOP_CAMERA) -> np.ndarray:
        """One frame, uint8 (height, width, 3)."""
        if mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            names = [self.model.camera(i).name for i in range(self.model.ncam)]
            raise ValueError(f"unknown camera {camera!r}; cameras: {', '.join(names)}")
        self._renderer.update_scene(data, camera=camera)
        return self._renderer.render().copy()

    def close(self) -> None:
        self._renderer.close()
