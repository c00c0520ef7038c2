"""FaceModelVersion: which face model made a collection's descriptors, and refusing to mix.

rekcli has two face models (engine/models.py, $REKCLI_FACE_MODEL):

| REKCLI_FACE_MODEL | FaceModelVersion | landmarks that align the descriptors |
|---|---|---|
| unset or `default` | 1.0 | dlib's 68-point model (iBUG 300-W: non-commercial use only) |
| `clean` | 1.0-clean | dlib's 5-point model (free for any use) |

The two give descriptors of the same size that must never be compared: a face indexed in one
mode and searched in the other would score a Similarity that means nothing. A collection
records the version current at its creation (as AWS's collections keep theirs forever), and
every operation that adds faces to it or compares faces with it refuses to run under the
other mode: InvalidParameterException (exit 254), naming both versions and the setting.
Listing, describing and deleting faces, users and collections work in either mode.
"""

from __future__ import annotations

from rekcli.service.errors import InvalidParameterException
from rekcli.store.constants import FACE_MODEL_VERSION

CLEAN_FACE_MODEL_VERSION = "1.0-clean"
# engine face model -> the FaceModelVersion its collections record
VERSIONS = {"default": FACE_MODEL_VERSION, "clean": CLEAN_FACE_MODEL_VERSION}
_SETTINGS = {"default": "REKCLI_FACE_MODEL unset (the 68-point model)",
             "clean": "REKCLI_FACE_MODEL=clean (the 5-point model)"}


def current_face_model_version() -> str:
    """The FaceModelVersion of this process's face model (reads $REKCLI_FACE_MODEL)."""
    from rekcli.engine import models  # stdlib only: no numpy on the metadata paths

    return VERSIONS[models.face_model()]


DEFAULT_REDO = "index its photos again into a collection created with the current setting"


def require_current_face_model(collection, name: str | None = None,
                               redo: str = DEFAULT_REDO) -> None:
    """InvalidParameterException unless `collection` was made by the current face model.
    `name` says what it is to the user (default: "Collection <its id>"), `redo` how to start
    again under the current setting."""
    current = current_face_model_version()
    version = collection.face_model_version
    if version == current:
        return
    current_setting = _SETTINGS[_mode_of(current)]
    needed = _mode_of(version)
    remedy = (f"run with {_SETTINGS[needed]} to use it" if needed
              else "no setting of this rekcli can use it")
    raise InvalidParameterException(
        f"{name or 'Collection ' + collection.collection_id} has FaceModelVersion {version} and this "
        f"rekcli runs FaceModelVersion {current}, with {current_setting}: faces of the two "
        f"cannot be compared. Either {remedy}, or {redo}.")


def _mode_of(version: str) -> str | None:
    return next((mode for mode, known in VERSIONS.items() if known == version), None)
