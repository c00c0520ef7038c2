"""analyze_faces: the whole pipeline for one image, one step per function.

detect (working copy) -> keep the largest max_faces -> 68 landmarks (original pixels) ->
pose, quality, attributes -> descriptors for all kept faces in one batched dlib call.

Models are loaded when first needed (models.py). Which shape model, and why:
Rekognition's DEFAULT landmarks include the mouth corners, and Pose needs points at several
depths (nose tip, mouth, chin); dlib's 5-point model gives only the four eye corners and the
base of the nose. Mouth corners guessed from those would be wrong exactly when they matter
(smiles, open mouths, turned heads), and pitch from five nearly coplanar points is noise. The
68-point model costs 0.4-0.6 s to load; measured cold, the whole compare-faces workload
(benchmarks/bench_engine.py) still takes ~1.1 s of its 1.8 s budget.

The same 68-point fit aligns every descriptor chip, whatever a call reports: a face's
descriptor must not depend on the options of the call that computed it (a query face and the
faces it is searched against are then comparable, and the same photo scores 100). Aligning
with the 5-point model instead was measured on the shared photos: the closest pair of
different people fell from 0.630 to 0.592 (Similarity 81, a false match at the default
threshold), so the 68-point fit is also the more accurate choice here. The ResNet loads only
when descriptors are asked for.

The licence-clean mode (REKCLI_FACE_MODEL=clean, models.face_model) fits the 5-point model
instead, for the same three uses: the chips are aligned from its points (dlib cuts 5-point
chips as well as 68-point ones), the landmarks are the 9 types 5 points give
(landmarks.py), the pose is solved from those 5 points (pose.py), and the geometric
attributes, which need the eyelids and lips, are omitted. Its descriptors are not comparable
with the 68-point ones, so similarity.py has a calibration of their own.
"""

from __future__ import annotations

from rekcli.engine import DecodedImage, FaceAnalysis, models
from rekcli.engine.detection import Detection, detect_faces


def analyze_faces(
    image: DecodedImage,
    *,
    max_faces: int = 100,
    detailed: bool = False,
    descriptors: bool = True,
    landmarks: bool = True,
) -> list[FaceAnalysis]:
    """The `max_faces` largest faces of `image`, sorted by box area, largest first.

    detailed: all 30 landmark types and the geometric attributes (EyesOpen, MouthOpen,
        Smile) instead of the 5 default landmarks and no attributes.
    descriptors: compute the 128-d descriptor of every returned face (one batched call).
    landmarks: False skips the landmark geometry for callers that need only boxes,
        confidences, quality and descriptors (e.g. a search query face): the faces then have
        no landmarks ({}), pose None and no attributes. Descriptors are the same either way.
    """
    import cv2
    import dlib
    import numpy as np

    pixels = np.ascontiguousarray(image.pixels)  # dlib reads C-ordered buffers only
    kept = largest_faces(detect_faces(pixels), max_faces)
    if not kept:
        return []

    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    # One fit per face (68 points, or 5 in the licence-clean mode) serves the landmarks, the
    # pose and the descriptor's alignment.
    predictor = models.shape_predictor()
    shapes = [predictor(pixels, _dlib_rectangle(dlib, d.box)) for d in kept]

    vectors = _descriptors(pixels, shapes) if descriptors else [None] * len(kept)

    from rekcli.engine.quality import face_quality

    faces = []
    for detection, shape, vector in zip(kept, shapes, vectors):
        quality = face_quality(gray, detection.box)
        if landmarks:
            face_landmarks, pose, attributes = _geometry(shape, image, detailed)
        else:
            face_landmarks, pose, attributes = {}, None, {}
        faces.append(
            FaceAnalysis(
                box=detection.box,
                confidence=detection.confidence,
                landmarks=face_landmarks,
                pose=pose,
                quality=quality,
                attributes=attributes,
                descriptor=vector,
                alignment=shape,
            )
        )
    return faces


def compute_descriptors(image: DecodedImage, faces: list[FaceAnalysis]) -> None:
    """Fill the missing descriptors of `faces` (analysed from `image`) in one batched call."""
    import numpy as np

    missing = [face for face in faces if face.descriptor is None]
    if not missing:
        return
    pixels = np.ascontiguousarray(image.pixels)
    for face, vector in zip(missing, _descriptors(pixels, [face.alignment for face in missing])):
        face.descriptor = vector


def largest_faces(detections: list[Detection], max_faces: int) -> list[Detection]:
    """The max_faces largest detections by box area, largest first (ties: higher score)."""
    ordered = sorted(detections, key=lambda d: (-(d.box[2] * d.box[3]), -d.score))
    return ordered[: max(0, max_faces)]


def _geometry(shape, image: DecodedImage, detailed: bool):
    from rekcli.engine.attributes import face_attributes
    from rekcli.engine.landmarks import DLIB5_AS_DLIB68, rekognition_landmarks, shape_to_array
    from rekcli.engine.pose import estimate_pose

    points = shape_to_array(shape)
    face_landmarks = rekognition_landmarks(points, detailed)
    if len(points) == 5:  # the licence-clean mode: no eyelids or lips to measure
        pose = estimate_pose({DLIB5_AS_DLIB68[i]: point for i, point in enumerate(points)},
                             image.width, image.height)
        return face_landmarks, pose, {}
    pose = estimate_pose(points, image.width, image.height)
    attributes = face_attributes(points) if detailed else {}
    return face_landmarks, pose, attributes


def _descriptors(pixels, shapes):
    """128-d float32 descriptors, all faces in one batched call.

    The model is dlib's ResNet run in numpy (resnet.py: dlib cuts the face chips exactly as
    its compute_face_descriptor does, numpy's BLAS runs the network, ~9x faster than the
    BLAS-less dlib-bin wheel) unless REKCLI_DESCRIPTORS=dlib asks for dlib's own; both give
    the same descriptors to ~1e-6 (models.face_recognition_model).
    """
    import dlib
    import numpy as np

    if not shapes:
        return []
    model = models.face_recognition_model()
    # full_object_detections is the list type compute_face_descriptor batches over.
    batch = dlib.full_object_detections()
    for shape in shapes:
        batch.append(shape)
    vectors = model.compute_face_descriptor(pixels, batch)
    return [np.asarray(vector, dtype=np.float32).reshape(128) for vector in vectors]


def _dlib_rectangle(dlib, box):
    left, top, width, height = box
    return dlib.rectangle(
        int(round(left)), int(round(top)), int(round(left + width)), int(round(top + height))
    )
