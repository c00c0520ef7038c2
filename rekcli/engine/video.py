"""Stored video -> sampled RGB frames, through OpenCV's bundled FFmpeg.

The engine knows no AWS names: a file that is not a video raises VideoError, and the
service turns it into Rekognition's errors. Frames are sampled at a fixed interval of
video time (not one frame in N), so the rate means the same at 24, 30 or 60 fps.
Frames between samples are only `grab()`bed: demuxed and decoded, never colour-converted
or copied into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rekcli.engine.errors import ImageError


# Container FourCCs -> the codec names FFmpeg (and Rekognition's VideoMetadata.Codec: "h264")
# use; an unlisted FourCC is reported as it is, in lower case.
CODEC_NAMES = {
    "avc1": "h264", "avc3": "h264", "h264": "h264", "x264": "h264",
    "hvc1": "hevc", "hev1": "hevc", "hevc": "hevc", "h265": "hevc",
    "mp4v": "mpeg4", "fmp4": "mpeg4", "xvid": "mpeg4", "divx": "mpeg4", "dx50": "mpeg4",
    "vp08": "vp8", "vp80": "vp8", "vp09": "vp9", "vp90": "vp9", "av01": "av1",
    "mjpg": "mjpeg",
}


class VideoError(ImageError):
    """Not a video OpenCV can decode (wrong container, unknown codec, truncated)."""


@dataclass(frozen=True)
class VideoInfo:
    codec: str            # as FFmpeg names it: "h264", "hevc", "mpeg4", "vp9" (CODEC_NAMES)
    container: str        # "QuickTime / MOV", "AVI", "Matroska / WebM" (from the magic bytes)
    frame_rate: float
    frame_count: int
    width: int
    height: int

    @property
    def duration_ms(self) -> int:
        return int(round(self.frame_count * 1000.0 / self.frame_rate)) if self.frame_rate else 0


def container_of(path: Path) -> str | None:
    """The container named by the file's first bytes, or None when it is none we know."""
    with open(path, "rb") as file:
        head = file.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "QuickTime / MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska / WebM"
    return None


def _open(path: Path):
    import cv2

    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise VideoError("the file cannot be opened as a video")
    return capture


def probe(path: Path) -> VideoInfo:
    """Container, codec, size, rate and length, from the headers; VideoError if undecodable."""
    import cv2

    container = container_of(path)
    if container is None:
        raise VideoError("unknown container (not MP4/MOV, AVI or Matroska)")
    capture = _open(path)
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        tag = "".join(chr((fourcc >> 8 * i) & 0xFF) for i in range(4)).strip("\0 ").lower()
        info = VideoInfo(codec=CODEC_NAMES.get(tag, tag), container=container,
                         frame_rate=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
                         frame_count=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
                         width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if info.width <= 0 or info.height <= 0 or info.frame_rate <= 0 or not capture.grab():
            raise VideoError("the video has no decodable frames")
        return info
    finally:
        capture.release()


def sample_frames(path: Path, interval_ms: int) -> Iterator[tuple[int, "object"]]:
    """(timestamp ms, DecodedImage) every `interval_ms` of video time, from time 0.

    Timestamps come from the frame index and the stream's rate, so they are exact frame
    times whatever the decoder reports. Decoding stops quietly at the first frame that
    cannot be read (a truncated tail gives the frames before it).
    """
    import cv2

    from rekcli.engine import DecodedImage

    info = probe(path)
    capture = _open(path)
    try:
        next_sample_ms = 0.0
        index = 0
        while capture.grab():
            time_ms = index * 1000.0 / info.frame_rate
            index += 1
            if time_ms + 1e-6 < next_sample_ms:
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                break
            next_sample_ms += interval_ms * max(1, int((time_ms - next_sample_ms) // interval_ms) + 1)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)
            yield int(round(time_ms)), DecodedImage(rgb, rgb.shape[1], rgb.shape[0])
    finally:
        capture.release()


def prefetched(frames: Iterator, depth: int = 2) -> Iterator:
    """`frames`, decoded by a background thread up to `depth` samples ahead.

    OpenCV releases the GIL while it demuxes, decodes and converts, so the frames between
    samples are decoded while the previous sample is analysed. Closing the returned
    generator early stops the thread at its next frame.
    """
    import queue
    import threading

    done = object()
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for frame in frames:
                if not put(("frame", frame)):
                    return
            put(("end", done))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            put(("error", error))

    thread = threading.Thread(target=produce, name="video-decode", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
