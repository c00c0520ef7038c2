"""Head pose (roll, yaw, pitch in degrees) from 2-D landmarks and a generic 3-D head.

Method: cv2.solvePnP fits a rigid, average adult head (HEAD_MODEL_MM, our own numbers from
typical facial proportions, in millimetres) to 14 stable dlib landmarks: eye corners, nose
bridge, tip and base, lip centres, mouth corners and chin. The jaw outline is left out: its
points lie on the silhouette and slide over the head as it turns, so they are not fixed 3-D
points. The camera is a pinhole with focal length max(width, height) px (a ~53 degree field
of view, a normal lens) centred on the image; the true lens is unknown and only weakly
affects the angles. The fit starts from a frontal head at the distance the eye-corner spacing
implies, which keeps the iterative solver away from the mirror solution behind the camera.
The angles are taken relative to the line of sight to the face, not the optical axis, so
a face looking into the lens has yaw and pitch near 0 wherever it sits in the frame.

Model and camera frames: x to the image right, y down, z away from the camera. The rotation
R = Rz(roll) . Ry(b) . Rx(a) is decomposed and converted to Rekognition's signs (reference
§2.1, inferred from published outputs):

- Roll > 0 when the image-right eye is lower (larger y): a clockwise tilt on screen, which is
  +rotation about z in this frame (x turns toward y): roll = +angle_z.
- Yaw > 0 when the nose tip moves toward larger x than the eye midpoint. The tip lies in
  front of the eyes (smaller z), and a rotation by +b about y sends points in front of the
  pivot toward -x, so yaw = -b.
- Pitch: Rekognition publishes no evidence for its sign; we report the aviation convention,
  positive when the face tilts up (chin forward, nose tip above its frontal position).
  A +a rotation about x sends points in front of the pivot downward (+y), so pitch = -a.

Accuracy is that of a generic head and a guessed lens: a few degrees for yaw and roll near
frontal, worse for pitch; signs are reliable (tested on mirrored photos).

The licence-clean mode fits the same head to the five points dlib's 5-point model gives (the
four eye corners, 36/39/42/45, and the nose base, 33). Five points at three depths still
determine the rotation, less firmly: on the 44 faces of the shared photos its angles differ
from the 14-point fit by a median 1.0 (roll), 2.1 (yaw) and 2.2 (pitch) degrees, 90th
percentiles 2.4, 6.0 and 8.5 (benchmarks/bench_clean_mode.py). Pitch, which rests on the
nose base's height below the eyes and so also on the proportions of each face, is the
weakest.
"""

from __future__ import annotations

import math

# dlib 68-point index -> (x, y, z) mm, origin at the nose tip, x image-right, y down, z away.
HEAD_MODEL_MM = {
    27: (0.0, -38.0, 22.0),  # nose bridge, between the eyes
    30: (0.0, 0.0, 0.0),  # nose tip
    31: (-16.0, 8.0, 15.0),  # nostril wing, image-left
    33: (0.0, 13.0, 15.0),  # nose base (subnasale)
    35: (16.0, 8.0, 15.0),  # nostril wing, image-right
    36: (-45.0, -35.0, 40.0),  # image-left eye, outer corner
    39: (-20.0, -34.0, 28.0),  # image-left eye, inner corner
    42: (20.0, -34.0, 28.0),  # image-right eye, inner corner
    45: (45.0, -35.0, 40.0),  # image-right eye, outer corner
    48: (-31.0, 34.0, 30.0),  # mouth corner, image-left
    51: (0.0, 28.0, 16.0),  # upper lip, centre
    54: (31.0, 34.0, 30.0),  # mouth corner, image-right
    57: (0.0, 50.0, 20.0),  # lower lip, centre
    8: (0.0, 92.0, 30.0),  # chin
}
_OUTER_EYE_SPAN_MM = 90.0
FOCAL_FACTOR = 2.0


def estimate_pose(points, image_width: int, image_height: int) -> tuple[float, float, float] | None:
    """(roll, yaw, pitch) in degrees, Rekognition signs, from the 68 dlib landmark points,
    or from a {68-point index: (x, y)} dict of some of them (the licence-clean mode's 5-point
    fit gives the four eye corners and the nose base: see the module docstring)."""
    import cv2
    import numpy as np

    if isinstance(points, dict):
        indices = [i for i in HEAD_MODEL_MM if i in points]
    else:
        indices = list(HEAD_MODEL_MM)
    model = np.array([HEAD_MODEL_MM[i] for i in indices], dtype=np.float64)
    image_points = np.array([points[i] for i in indices], dtype=np.float64)

    focal = FOCAL_FACTOR * float(max(image_width, image_height))
    camera = np.array(
        [[focal, 0.0, image_width / 2.0], [0.0, focal, image_height / 2.0], [0.0, 0.0, 1.0]]
    )
    # Start frontal, at the distance where the model's eye span matches the photo's.
    outer_eye_corners = image_points[indices.index(45)] - image_points[indices.index(36)]
    eye_span_px = max(1.0, float(np.linalg.norm(outer_eye_corners)))
    distance = focal * _OUTER_EYE_SPAN_MM / eye_span_px
    # The nose tip is the model's origin; the nose base, 13 mm below it, is near enough to
    # start from when only 5 points were fitted.
    tip = image_points[indices.index(30 if 30 in indices else 33)]
    tvec = np.array(
        [
            [(tip[0] - image_width / 2.0) * distance / focal],
            [(tip[1] - image_height / 2.0) * distance / focal],
            [distance],
        ]
    )
    rvec = np.zeros((3, 1))
    ok, rvec, tvec = cv2.solvePnP(
        model, image_points, camera, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE
    )
    if not ok or not (np.isfinite(rvec).all() and np.isfinite(tvec).all()):
        return None  # unknown, never a made-up frontal pose

    rotation, _ = cv2.Rodrigues(rvec)
    return _rekognition_angles(_relative_to_line_of_sight(rotation, tvec))


def _relative_to_line_of_sight(rotation, tvec):
    """The head's rotation as seen along the ray from the camera to the head.

    A face away from the image centre is seen obliquely: looking straight into the lens from
    the edge of a wide shot, it is turned by the ray's angle relative to the optical axis.
    Rekognition's angles describe how the face appears (its yaw sign follows the nose's
    offset in the image), so we undo the ray's own rotation: R_seen = R_ray^T . R.
    """
    import cv2
    import numpy as np

    ray = tvec.reshape(3) / max(1e-9, float(np.linalg.norm(tvec)))
    axis = np.cross([0.0, 0.0, 1.0], ray)
    sin_angle = float(np.linalg.norm(axis))
    if sin_angle < 1e-9:
        return rotation
    angle = math.atan2(sin_angle, float(ray[2]))
    ray_rotation, _ = cv2.Rodrigues((axis / sin_angle * angle).reshape(3, 1))
    return ray_rotation.T @ rotation


def _rekognition_angles(rotation) -> tuple[float, float, float]:
    """R = Rz(c) . Ry(b) . Rx(a) -> (roll, yaw, pitch) with Rekognition's signs."""
    sin_b = max(-1.0, min(1.0, -float(rotation[2, 0])))
    b = math.asin(sin_b)
    if abs(sin_b) < 0.9999:
        c = math.atan2(float(rotation[1, 0]), float(rotation[0, 0]))
        a = math.atan2(float(rotation[2, 1]), float(rotation[2, 2]))
    else:  # gimbal lock: yaw at +-90 degrees; put all remaining rotation into roll
        c = math.atan2(-float(rotation[0, 1]), float(rotation[1, 1]))
        a = 0.0
    roll, yaw, pitch = math.degrees(c), -math.degrees(b), -math.degrees(a)
    return _wrap(roll), _wrap(yaw), _wrap(pitch)


def _wrap(angle: float) -> float:
    """Into [-180, 180)."""
    return (angle + 180.0) % 360.0 - 180.0
