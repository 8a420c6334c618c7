"""Camera frames for vision-language back ends: JPEG bytes and base64 data URLs.

Encoded with Pillow (already installed as a matplotlib dependency; listed in requirements.txt),
so no OpenCV is needed.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from cadence.planner.errors import PlannerError

_JPEG_MAGIC = b"\xff\xd8\xff"


def to_jpeg(image: Any, quality: int = 85, max_side: int = 768) -> bytes:
    """JPEG bytes of an image: JPEG bytes pass through; uint8 arrays (H, W), (H, W, 3) are encoded.

    Larger frames are downscaled so the longer side is at most `max_side` pixels.

    Raises:
        PlannerError: for anything else (wrong dtype or shape, other bytes).
    """
    if isinstance(image, (bytes, bytearray)):
        if not bytes(image[:3]) == _JPEG_MAGIC:
            raise PlannerError("image bytes are not a JPEG (pass an RGB uint8 array instead)")
        return bytes(image)
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise PlannerError(f"image must be uint8 (H, W) or (H, W, 3), got {arr.dtype} {arr.shape}")
    from PIL import Image

    img = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def data_url(jpeg: bytes) -> str:
    """``data:image/jpeg;base64,...`` for an OpenAI-style ``image_url`` content part."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
