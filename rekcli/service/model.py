"""The Rekognition face API as data: every operation, its input and output shapes.

This is the one description of the API in rekcli. From it come the command-line options and
their types, client-side validation (required, types, minimums), the service-side checks (maximums,
patterns, enums), `--generate-cli-skeleton`, the order of keys in responses, help text,
completions and man pages. Facts are taken from the botocore service model as summarised in
`shared/reference/rekognition-face-api.md`; the help sentences are our own.

Shapes are plain dicts:
  {"type": "string", "min": 1, "max": 255, "pattern": "...", "enum": [...]}
  {"type": "integer" | "long" | "float" | "boolean" | "blob" | "timestamp", "min":..., "max":...}
  {"type": "list", "member": "<shape>", "min":..., "max":...}
  {"type": "map", "key": "<shape>", "value": "<shape>", "min":..., "max":...}
  {"type": "structure", "members": {"Name": "<shape>", ...}, "required": [...]}
Operation inputs additionally carry per-member help in "docs" and defaults in "defaults".
Importing this module must stay cheap: it is read on every CLI start.
"""

from __future__ import annotations

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ATTRIBUTE_VALUES = [
    "DEFAULT", "ALL", "AGE_RANGE", "BEARD", "EMOTIONS", "EYE_DIRECTION", "EYEGLASSES",
    "EYES_OPEN", "GENDER", "MOUTH_OPEN", "MUSTACHE", "FACE_OCCLUDED", "SMILE", "SUNGLASSES",
]
QUALITY_FILTER_VALUES = ["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"]
LANDMARK_TYPES = [
    "eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight", "leftEyeBrowLeft",
    "leftEyeBrowRight", "leftEyeBrowUp", "rightEyeBrowLeft", "rightEyeBrowRight",
    "rightEyeBrowUp", "leftEyeLeft", "leftEyeRight", "leftEyeUp", "leftEyeDown",
    "rightEyeLeft", "rightEyeRight", "rightEyeUp", "rightEyeDown", "noseLeft", "noseRight",
    "mouthUp", "mouthDown", "leftPupil", "rightPupil", "upperJawlineLeft", "midJawlineLeft",
    "chinBottom", "midJawlineRight", "upperJawlineRight",
]
ORIENTATION_VALUES = ["ROTATE_0", "ROTATE_90", "ROTATE_180", "ROTATE_270"]
USER_STATUS_VALUES = ["ACTIVE", "UPDATING", "CREATING", "CREATED"]


def _struct(*members: str, required: tuple[str, ...] = ()) -> dict:
    """A structure whose members are given as 'Name:Shape' strings, in model order."""
    pairs = (m.split(":", 1) for m in members)
    return {"type": "structure", "members": {name: shape for name, shape in pairs},
            "required": list(required)}


def _list(member: str, **limits) -> dict:
    return {"type": "list", "member": member, **limits}


SHAPES: dict[str, dict] = {
    # ---- scalars ------------------------------------------------------------------------
    "String": {"type": "string"},
    "Boolean": {"type": "boolean"},
    "Float": {"type": "float"},
    "Percent": {"type": "float", "min": 0, "max": 100},
    "Degree": {"type": "float", "min": -180, "max": 180},
    "UInteger": {"type": "integer", "min": 0},
    "ULong": {"type": "long", "min": 0},
    "Timestamp": {"type": "timestamp"},
    "ImageBlob": {"type": "blob", "min": 1, "max": 5242880},
    "CollectionId": {"type": "string", "min": 1, "max": 255, "pattern": r"[a-zA-Z0-9_.\-]+"},
    "ExternalImageId": {"type": "string", "min": 1, "max": 255, "pattern": r"[a-zA-Z0-9_.\-:]+"},
    "UserId": {"type": "string", "min": 1, "max": 128, "pattern": r"[a-zA-Z0-9_.\-:]+"},
    "FaceId": {"type": "string", "pattern": UUID_PATTERN},
    "ImageId": {"type": "string", "pattern": UUID_PATTERN},
    "ClientRequestToken": {"type": "string", "min": 1, "max": 64, "pattern": r"^[a-zA-Z0-9-_]+$",
                           "idempotency_token": True},
    "PaginationToken": {"type": "string", "max": 255},
    "ListPageSize": {"type": "integer", "min": 0, "max": 4096},
    "UsersPageSize": {"type": "integer", "min": 1, "max": 500},
    "MaxFacesToIndex": {"type": "integer", "min": 1},
    "MaxFaces": {"type": "integer", "min": 1, "max": 4096},
    "MaxUserResults": {"type": "integer", "min": 1, "max": 500},
    "S3Bucket": {"type": "string", "min": 3, "max": 255, "pattern": r"[0-9A-Za-z\.\-_]*"},
    "S3ObjectName": {"type": "string", "min": 1, "max": 1024},
    "S3ObjectVersion": {"type": "string", "min": 1, "max": 1024},
    "ResourceArn": {"type": "string", "min": 20, "max": 2048},
    "TagKey": {"type": "string", "min": 1, "max": 128, "pattern": r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"},
    "TagValue": {"type": "string", "min": 0, "max": 256, "pattern": r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"},
    "QualityFilter": {"type": "string", "enum": QUALITY_FILTER_VALUES},
    "Attribute": {"type": "string", "enum": ATTRIBUTE_VALUES},
    "OrientationCorrection": {"type": "string", "enum": ORIENTATION_VALUES},
    "LandmarkType": {"type": "string", "enum": LANDMARK_TYPES},
    "GenderType": {"type": "string", "enum": ["Male", "Female"]},
    "EmotionName": {"type": "string", "enum": ["HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED",
                                                "SURPRISED", "CALM", "UNKNOWN", "FEAR"]},
    "Reason": {"type": "string", "enum": ["EXCEEDS_MAX_FACES", "EXTREME_POSE", "LOW_BRIGHTNESS",
                                          "LOW_SHARPNESS", "LOW_CONFIDENCE", "SMALL_BOUNDING_BOX",
                                          "LOW_FACE_QUALITY"]},
    "UnsearchedFaceReason": {"type": "string", "enum": [
        "FACE_NOT_LARGEST", "EXCEEDS_MAX_FACES", "EXTREME_POSE", "LOW_BRIGHTNESS",
        "LOW_SHARPNESS", "LOW_CONFIDENCE", "SMALL_BOUNDING_BOX", "LOW_FACE_QUALITY"]},
    "UnsuccessfulFaceAssociationReason": {"type": "string", "enum": [
        "FACE_NOT_FOUND", "ASSOCIATED_TO_A_DIFFERENT_USER", "LOW_MATCH_CONFIDENCE"]},
    "UnsuccessfulFaceDisassociationReason": {"type": "string", "enum": [
        "FACE_NOT_FOUND", "ASSOCIATED_TO_A_DIFFERENT_USER"]},
    "UnsuccessfulFaceDeletionReason": {"type": "string", "enum": [
        "ASSOCIATED_TO_AN_EXISTING_USER", "FACE_NOT_FOUND"]},
    "UserStatus": {"type": "string", "enum": USER_STATUS_VALUES},
    "RekognitionUniqueId": {"type": "string", "pattern": "[0-9A-Za-z]*"},
    "KnownGenderType": {"type": "string", "enum": ["Male", "Female", "Nonbinary", "Unlisted"]},
    # ---- input structures and lists -------------------------------------------------------
    "S3Object": _struct("Bucket:S3Bucket", "Name:S3ObjectName", "Version:S3ObjectVersion"),
    "Image": _struct("Bytes:ImageBlob", "S3Object:S3Object"),
    "Attributes": _list("Attribute"),
    "FaceIdList": _list("FaceId", min=1, max=4096),
    "UserFaceIdList": _list("FaceId", min=1, max=100),
    "TagMap": {"type": "map", "key": "TagKey", "value": "TagValue", "min": 0, "max": 200},
    "TagKeyList": _list("TagKey", min=0, max=200),
    # ---- output structures ------------------------------------------------------------------
    "BoundingBox": _struct("Width:Float", "Height:Float", "Left:Float", "Top:Float"),
    "Landmark": _struct("Type:LandmarkType", "X:Float", "Y:Float"),
    "Landmarks": _list("Landmark"),
    "Pose": _struct("Roll:Degree", "Yaw:Degree", "Pitch:Degree"),
    "ImageQuality": _struct("Brightness:Float", "Sharpness:Float"),
    "AgeRange": _struct("Low:UInteger", "High:UInteger"),
    "BooleanAttribute": _struct("Value:Boolean", "Confidence:Percent"),
    "Gender": _struct("Value:GenderType", "Confidence:Percent"),
    "Emotion": _struct("Type:EmotionName", "Confidence:Percent"),
    "Emotions": _list("Emotion"),
    "EyeDirection": _struct("Yaw:Degree", "Pitch:Degree", "Confidence:Percent"),
    "FaceDetail": _struct(
        "BoundingBox:BoundingBox", "AgeRange:AgeRange", "Smile:BooleanAttribute",
        "Eyeglasses:BooleanAttribute", "Sunglasses:BooleanAttribute", "Gender:Gender",
        "Beard:BooleanAttribute", "Mustache:BooleanAttribute", "EyesOpen:BooleanAttribute",
        "MouthOpen:BooleanAttribute", "Emotions:Emotions", "Landmarks:Landmarks", "Pose:Pose",
        "Quality:ImageQuality", "Confidence:Percent", "FaceOccluded:BooleanAttribute",
        "EyeDirection:EyeDirection"),
    "FaceDetailList": _list("FaceDetail"),
    "ComparedSourceImageFace": _struct("BoundingBox:BoundingBox", "Confidence:Percent"),
    "ComparedFace": _struct(
        "BoundingBox:BoundingBox", "Confidence:Percent", "Landmarks:Landmarks", "Pose:Pose",
        "Quality:ImageQuality", "Emotions:Emotions", "Smile:BooleanAttribute"),
    "ComparedFaceList": _list("ComparedFace"),
    "CompareFacesMatch": _struct("Similarity:Percent", "Face:ComparedFace"),
    "CompareFacesMatchList": _list("CompareFacesMatch"),
    "Face": _struct("FaceId:FaceId", "BoundingBox:BoundingBox", "ImageId:ImageId",
                    "ExternalImageId:ExternalImageId", "Confidence:Percent",
                    "IndexFacesModelVersion:String", "UserId:UserId"),
    "FaceList": _list("Face"),
    "FaceRecord": _struct("Face:Face", "FaceDetail:FaceDetail"),
    "FaceRecordList": _list("FaceRecord"),
    "Reasons": _list("Reason"),
    "UnindexedFace": _struct("Reasons:Reasons", "FaceDetail:FaceDetail"),
    "UnindexedFaces": _list("UnindexedFace"),
    "FaceMatch": _struct("Similarity:Percent", "Face:Face"),
    "FaceMatchList": _list("FaceMatch"),
    "CollectionIdList": _list("CollectionId"),
    "FaceModelVersionList": _list("String"),
    "FaceIdOutputList": _list("FaceId"),
    "DeletionReasons": _list("UnsuccessfulFaceDeletionReason"),
    "UnsuccessfulFaceDeletion": _struct("FaceId:FaceId", "UserId:UserId",
                                        "Reasons:DeletionReasons"),
    "UnsuccessfulFaceDeletionsList": _list("UnsuccessfulFaceDeletion"),
    "User": _struct("UserId:UserId", "UserStatus:UserStatus"),
    "UserList": _list("User"),
    "AssociatedFace": _struct("FaceId:FaceId"),
    "AssociatedFacesList": _list("AssociatedFace"),
    "AssociationReasons": _list("UnsuccessfulFaceAssociationReason"),
    "UnsuccessfulFaceAssociation": _struct("FaceId:FaceId", "UserId:UserId",
                                           "Confidence:Percent", "Reasons:AssociationReasons"),
    "UnsuccessfulFaceAssociationList": _list("UnsuccessfulFaceAssociation"),
    "DisassociatedFace": _struct("FaceId:FaceId"),
    "DisassociatedFacesList": _list("DisassociatedFace"),
    "DisassociationReasons": _list("UnsuccessfulFaceDisassociationReason"),
    "UnsuccessfulFaceDisassociation": _struct("FaceId:FaceId", "UserId:UserId",
                                              "Reasons:DisassociationReasons"),
    "UnsuccessfulFaceDisassociationList": _list("UnsuccessfulFaceDisassociation"),
    "MatchedUser": _struct("UserId:UserId", "UserStatus:UserStatus"),
    "UserMatch": _struct("Similarity:Percent", "User:MatchedUser"),
    "UserMatchList": _list("UserMatch"),
    "SearchedFace": _struct("FaceId:FaceId"),
    "SearchedUser": _struct("UserId:UserId"),
    "SearchedFaceDetails": _struct("FaceDetail:FaceDetail"),
    "UnsearchedFaceReasons": _list("UnsearchedFaceReason"),
    "UnsearchedFace": _struct("FaceDetails:FaceDetail", "Reasons:UnsearchedFaceReasons"),
    "UnsearchedFacesList": _list("UnsearchedFace"),
    "Urls": _list("String"),
    "KnownGender": _struct("Type:KnownGenderType"),
    "Celebrity": _struct("Urls:Urls", "Name:String", "Id:RekognitionUniqueId",
                         "Face:ComparedFace", "MatchConfidence:Percent",
                         "KnownGender:KnownGender"),
    "CelebrityList": _list("Celebrity"),
    "Empty": _struct(),
    # ---- stored video (service/video.py) --------------------------------------------------
    "Video": _struct("S3Object:S3Object"),
    # Not filled in when absent: botocore marks the video tokens as plain strings.
    "VideoClientRequestToken": {"type": "string", "min": 1, "max": 64,
                                "pattern": r"^[a-zA-Z0-9-_]+$"},
    "SNSTopicArn": {"type": "string", "pattern": r"(^arn:aws:sns:.*:\w{12}:.+$)"},
    "RoleArn": {"type": "string", "pattern": r"arn:aws:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"},
    "NotificationChannel": _struct("SNSTopicArn:SNSTopicArn", "RoleArn:RoleArn",
                                   required=("SNSTopicArn", "RoleArn")),
    "FaceAttributes": {"type": "string", "enum": ["DEFAULT", "ALL"]},
    "JobTag": {"type": "string", "min": 1, "max": 1024, "pattern": r"[a-zA-Z0-9_.\-:+=\/]+"},
    "JobId": {"type": "string", "min": 1, "max": 64, "pattern": r"^[a-zA-Z0-9-_]+$"},
    "VideoMaxResults": {"type": "integer", "min": 1},
    "FaceSearchSortBy": {"type": "string", "enum": ["INDEX", "TIMESTAMP"]},
    "VideoJobStatus": {"type": "string", "enum": ["IN_PROGRESS", "SUCCEEDED", "FAILED"]},
    "VideoColorRange": {"type": "string", "enum": ["FULL", "LIMITED"]},
    "VideoMetadata": _struct("Codec:String", "DurationMillis:ULong", "Format:String",
                             "FrameRate:Float", "FrameHeight:ULong", "FrameWidth:ULong",
                             "ColorRange:VideoColorRange"),
    "VideoTimestamp": {"type": "long"},
    "PersonIndex": {"type": "long"},
    "FaceDetection": _struct("Timestamp:VideoTimestamp", "Face:FaceDetail"),
    "FaceDetections": _list("FaceDetection"),
    "PersonDetail": _struct("Index:PersonIndex", "BoundingBox:BoundingBox", "Face:FaceDetail"),
    "PersonMatch": _struct("Timestamp:VideoTimestamp", "Person:PersonDetail",
                           "FaceMatches:FaceMatchList"),
    "PersonMatches": _list("PersonMatch"),
}


def _operation(summary: str, inputs: list[tuple[str, str, str]], outputs: list[str], *,
               required: tuple[str, ...] = (), defaults: dict | None = None,
               paginator: dict | None = None, kind: str = "collection") -> dict:
    """One operation: `inputs` are (member, shape, help) in model order; `outputs` 'Name:Shape'."""
    return {
        "summary": summary,
        "input": {"type": "structure", "members": {m: s for m, s, _ in inputs},
                  "required": list(required)},
        "docs": {m: doc for m, _, doc in inputs},
        "defaults": defaults or {},
        "output": _struct(*outputs),
        "paginator": paginator,
        "kind": kind,
    }


_COLLECTION = ("CollectionId", "CollectionId", "ID of the collection to use.")
def _image_help(helper: str = "image-bytes") -> str:
    return ("The image, as {Bytes: ...} or {S3Object: {Bucket, Name}}; JPEG or PNG, at least 80 "
            f"pixels on each side. --{helper} fileb://photo.jpg is easier.")


_IMAGE_HELP = _image_help()
_VIDEO = ("Video", "Video", "The video, as S3Object={Bucket=...,Name=...}: MP4, MOV or AVI, at "
                            "most 10 GB and 6 hours.")
_TOKEN_VIDEO = ("ClientRequestToken", "VideoClientRequestToken", "Idempotency token: the same token "
                "with the same request returns the same JobId instead of starting a new job.")
_NOTIFICATION = ("NotificationChannel", "NotificationChannel", "Accepted for compatibility; "
                 "rekcli has no SNS to publish to (poll the get- command or wait-video-job).")
_JOB_TAG = ("JobTag", "JobTag", "Your own label for the job, returned by the get- command.")
_JOB_ID = ("JobId", "JobId", "ID of the job, as returned by the start- command.")
_QUALITY_HELP = ("Drop faces of too low quality before using them: NONE, AUTO, LOW, MEDIUM or "
                 "HIGH.")

OPERATIONS: dict[str, dict] = {
    "CompareFaces": _operation(
        "Compare the largest face of the source image with every face of the target image.",
        [("SourceImage", "Image", "The image whose largest face is looked for. "
                                  + _image_help("source-image-bytes")),
         ("TargetImage", "Image", "The image searched for the source face; up to its 100 "
                                  "largest faces are compared. " + _image_help("target-image-bytes")),
         ("SimilarityThreshold", "Percent", "Minimum similarity (0-100) for a target face to "
                                            "count as a match."),
         ("QualityFilter", "QualityFilter", _QUALITY_HELP)],
        ["SourceImageFace:ComparedSourceImageFace", "FaceMatches:CompareFacesMatchList",
         "UnmatchedFaces:ComparedFaceList",
         "SourceImageOrientationCorrection:OrientationCorrection",
         "TargetImageOrientationCorrection:OrientationCorrection"],
        required=("SourceImage", "TargetImage"),
        defaults={"SimilarityThreshold": 80.0, "QualityFilter": "NONE"}, kind="image"),
    "DetectFaces": _operation(
        "Detect up to the 100 largest faces in an image, with landmarks, pose and quality.",
        [("Image", "Image", _IMAGE_HELP),
         ("Attributes", "Attributes", "Which facial attributes to return: DEFAULT, ALL, or "
                                      "named attributes. AGE_RANGE and GENDER need "
                                      "pip install 'rekcli[age-gender]'.")],
        ["FaceDetails:FaceDetailList", "OrientationCorrection:OrientationCorrection"],
        required=("Image",), defaults={"Attributes": ["DEFAULT"]}, kind="image"),
    "IndexFaces": _operation(
        "Detect faces in an image and add them to a collection.",
        [_COLLECTION,
         ("Image", "Image", _IMAGE_HELP),
         ("ExternalImageId", "ExternalImageId", "Your own id for the image, stored with every "
                                                "face indexed from it."),
         ("DetectionAttributes", "Attributes", "Which facial attributes to return in "
                                               "FaceDetail: DEFAULT, ALL, or named ones. "
                                               "AGE_RANGE and GENDER need "
                                               "pip install 'rekcli[age-gender]'."),
         ("MaxFaces", "MaxFacesToIndex", "Index at most this many faces, largest first."),
         ("QualityFilter", "QualityFilter", _QUALITY_HELP)],
        ["FaceRecords:FaceRecordList", "OrientationCorrection:OrientationCorrection",
         "FaceModelVersion:String", "UnindexedFaces:UnindexedFaces"],
        required=("CollectionId", "Image"),
        defaults={"QualityFilter": "AUTO", "DetectionAttributes": ["DEFAULT"]}, kind="image"),
    "SearchFaces": _operation(
        "Search a collection for faces that match a face already in it.",
        [_COLLECTION,
         ("FaceId", "FaceId", "ID of the face to search for."),
         ("MaxFaces", "MaxFaces", "Return at most this many matches, most similar first."),
         ("FaceMatchThreshold", "Percent", "Minimum similarity (0-100) of a returned match.")],
        ["SearchedFaceId:FaceId", "FaceMatches:FaceMatchList", "FaceModelVersion:String"],
        required=("CollectionId", "FaceId"), defaults={"FaceMatchThreshold": 80.0, "MaxFaces": 4096}),
    "SearchFacesByImage": _operation(
        "Search a collection for faces that match the largest face of an image.",
        [_COLLECTION,
         ("Image", "Image", _IMAGE_HELP),
         ("MaxFaces", "MaxFaces", "Return at most this many matches, most similar first."),
         ("FaceMatchThreshold", "Percent", "Minimum similarity (0-100) of a returned match."),
         ("QualityFilter", "QualityFilter", _QUALITY_HELP)],
        ["SearchedFaceBoundingBox:BoundingBox", "SearchedFaceConfidence:Percent",
         "FaceMatches:FaceMatchList", "FaceModelVersion:String"],
        required=("CollectionId", "Image"),
        defaults={"FaceMatchThreshold": 80.0, "MaxFaces": 4096, "QualityFilter": "NONE"}, kind="image"),
    "CreateCollection": _operation(
        "Create an empty collection of faces.",
        [("CollectionId", "CollectionId", "ID for the new collection."),
         ("Tags", "TagMap", "Tags to attach to the collection, as key=value pairs.")],
        ["StatusCode:UInteger", "CollectionArn:String", "FaceModelVersion:String"],
        required=("CollectionId",)),
    "DeleteCollection": _operation(
        "Delete a collection with all its faces and users.",
        [("CollectionId", "CollectionId", "ID of the collection to delete.")],
        ["StatusCode:UInteger"], required=("CollectionId",)),
    "DescribeCollection": _operation(
        "Show a collection's face and user counts, model version, ARN and creation time.",
        [("CollectionId", "CollectionId", "ID of the collection to describe.")],
        ["FaceCount:ULong", "FaceModelVersion:String", "CollectionARN:String",
         "CreationTimestamp:Timestamp", "UserCount:ULong"],
        required=("CollectionId",)),
    "ListCollections": _operation(
        "List the collections of this region.",
        [("NextToken", "PaginationToken", "Token from a previous, truncated response."),
         ("MaxResults", "ListPageSize", "Maximum number of collection ids per page.")],
        ["CollectionIds:CollectionIdList", "NextToken:PaginationToken",
         "FaceModelVersions:FaceModelVersionList"],
        paginator={"result_keys": ["CollectionIds", "FaceModelVersions"],
                   "non_aggregate_keys": []}),
    "ListFaces": _operation(
        "List the faces of a collection, sorted by FaceId.",
        [_COLLECTION,
         ("NextToken", "PaginationToken", "Token from a previous, truncated response."),
         ("MaxResults", "ListPageSize", "Maximum number of faces per page."),
         ("UserId", "UserId", "List only the faces associated with this user."),
         ("FaceIds", "FaceIdList", "List only these faces.")],
        ["Faces:FaceList", "NextToken:String", "FaceModelVersion:String"],
        required=("CollectionId",),
        paginator={"result_keys": ["Faces"], "non_aggregate_keys": ["FaceModelVersion"]}),
    "DeleteFaces": _operation(
        "Delete faces from a collection.",
        [_COLLECTION,
         ("FaceIds", "FaceIdList", "IDs of the faces to delete.")],
        ["DeletedFaces:FaceIdOutputList",
         "UnsuccessfulFaceDeletions:UnsuccessfulFaceDeletionsList"],
        required=("CollectionId", "FaceIds")),
    "CreateUser": _operation(
        "Create a user in a collection, to which faces can then be associated.",
        [_COLLECTION,
         ("UserId", "UserId", "ID for the new user."),
         ("ClientRequestToken", "ClientRequestToken", "Idempotency token: a retry with the "
                                                      "same token runs the request only once.")],
        [], required=("CollectionId", "UserId")),
    "DeleteUser": _operation(
        "Delete a user; its faces stay in the collection.",
        [_COLLECTION,
         ("UserId", "UserId", "ID of the user to delete."),
         ("ClientRequestToken", "ClientRequestToken", "Idempotency token: a retry with the "
                                                      "same token runs the request only once.")],
        [], required=("CollectionId", "UserId")),
    "ListUsers": _operation(
        "List the users of a collection.",
        [_COLLECTION,
         ("MaxResults", "UsersPageSize", "Maximum number of users per page."),
         ("NextToken", "PaginationToken", "Token from a previous, truncated response.")],
        ["Users:UserList", "NextToken:String"],
        required=("CollectionId",),
        paginator={"result_keys": ["Users"], "non_aggregate_keys": []}),
    "AssociateFaces": _operation(
        "Associate faces of a collection with a user.",
        [_COLLECTION,
         ("UserId", "UserId", "ID of the user to associate the faces with."),
         ("FaceIds", "UserFaceIdList", "IDs of the faces to associate (1-100)."),
         ("UserMatchThreshold", "Percent", "Minimum similarity (0-100) between a face and the "
                                           "user's existing faces."),
         ("ClientRequestToken", "ClientRequestToken", "Idempotency token: a retry with the "
                                                      "same token runs the request only once.")],
        ["AssociatedFaces:AssociatedFacesList",
         "UnsuccessfulFaceAssociations:UnsuccessfulFaceAssociationList",
         "UserStatus:UserStatus"],
        required=("CollectionId", "UserId", "FaceIds"), defaults={"UserMatchThreshold": 75.0}),
    "DisassociateFaces": _operation(
        "Remove the association between faces and a user.",
        [_COLLECTION,
         ("UserId", "UserId", "ID of the user."),
         ("ClientRequestToken", "ClientRequestToken", "Idempotency token: a retry with the "
                                                      "same token runs the request only once."),
         ("FaceIds", "UserFaceIdList", "IDs of the faces to disassociate (1-100).")],
        ["DisassociatedFaces:DisassociatedFacesList",
         "UnsuccessfulFaceDisassociations:UnsuccessfulFaceDisassociationList",
         "UserStatus:UserStatus"],
        required=("CollectionId", "UserId", "FaceIds")),
    "SearchUsers": _operation(
        "Search a collection for users matching a user or a face already in it.",
        [_COLLECTION,
         ("UserId", "UserId", "ID of the user to search for (give this or --face-id)."),
         ("FaceId", "FaceId", "ID of the face to search for (give this or --user-id)."),
         ("UserMatchThreshold", "Percent", "Minimum similarity (0-100) of a returned user."),
         ("MaxUsers", "MaxUserResults", "Return at most this many users, most similar first.")],
        ["UserMatches:UserMatchList", "FaceModelVersion:String", "SearchedFace:SearchedFace",
         "SearchedUser:SearchedUser"],
        required=("CollectionId",), defaults={"UserMatchThreshold": 80.0, "MaxUsers": 500}),
    "SearchUsersByImage": _operation(
        "Search a collection for users matching the largest face of an image.",
        [_COLLECTION,
         ("Image", "Image", _IMAGE_HELP),
         ("UserMatchThreshold", "Percent", "Minimum similarity (0-100) of a returned user."),
         ("MaxUsers", "MaxUserResults", "Return at most this many users, most similar first."),
         ("QualityFilter", "QualityFilter", _QUALITY_HELP)],
        ["UserMatches:UserMatchList", "FaceModelVersion:String",
         "SearchedFace:SearchedFaceDetails", "UnsearchedFaces:UnsearchedFacesList"],
        required=("CollectionId", "Image"),
        defaults={"UserMatchThreshold": 80.0, "MaxUsers": 500, "QualityFilter": "NONE"}, kind="image"),
    "TagResource": _operation(
        "Add tags to a collection.",
        [("ResourceArn", "ResourceArn", "ARN of the collection (from describe-collection)."),
         ("Tags", "TagMap", "Tags to add, as key=value pairs.")],
        [], required=("ResourceArn", "Tags")),
    "UntagResource": _operation(
        "Remove tags from a collection.",
        [("ResourceArn", "ResourceArn", "ARN of the collection (from describe-collection)."),
         ("TagKeys", "TagKeyList", "Keys of the tags to remove.")],
        [], required=("ResourceArn", "TagKeys")),
    "ListTagsForResource": _operation(
        "List the tags of a collection.",
        [("ResourceArn", "ResourceArn", "ARN of the collection (from describe-collection).")],
        ["Tags:TagMap"], required=("ResourceArn",)),
    # Celebrities: the user's own gallery (rekcli add-celebrity); rekcli knows no others.
    "RecognizeCelebrities": _operation(
        "Recognize the people of your own celebrity gallery among the 64 largest faces of an "
        "image.",
        [("Image", "Image", _IMAGE_HELP)],
        ["CelebrityFaces:CelebrityList", "UnrecognizedFaces:ComparedFaceList",
         "OrientationCorrection:OrientationCorrection"],
        required=("Image",), kind="image"),
    "GetCelebrityInfo": _operation(
        "Show the name, URLs and known gender of a celebrity of your own gallery.",
        [("Id", "RekognitionUniqueId", "Id of the celebrity, as recognize-celebrities or "
                                       "add-celebrity printed it.")],
        ["Urls:Urls", "Name:String", "KnownGender:KnownGender"],
        required=("Id",)),
    # Stored video: Start* answers a JobId at once, a background process does the work.
    "StartFaceDetection": _operation(
        "Start finding the faces of a stored video; get-face-detection reads the result.",
        [_VIDEO,
         _TOKEN_VIDEO,
         _NOTIFICATION,
         ("FaceAttributes", "FaceAttributes", "DEFAULT (box, confidence, pose, quality, five "
                                              "landmarks) or ALL facial attributes per face "
                                              "(AgeRange and Gender need pip install "
                                              "'rekcli[age-gender]')."),
         _JOB_TAG],
        ["JobId:JobId"], required=("Video",), defaults={"FaceAttributes": "DEFAULT"},
        kind="video"),
    "GetFaceDetection": _operation(
        "Read the status and the faces found by a start-face-detection job.",
        [_JOB_ID,
         ("MaxResults", "VideoMaxResults", "Maximum number of faces per page (at most 1000)."),
         ("NextToken", "PaginationToken", "Token from a previous, truncated response.")],
        ["JobStatus:VideoJobStatus", "StatusMessage:String", "VideoMetadata:VideoMetadata",
         "NextToken:PaginationToken", "Faces:FaceDetections", "JobId:JobId", "Video:Video",
         "JobTag:JobTag"],
        required=("JobId",), kind="video",
        paginator={"result_keys": ["Faces"], "non_aggregate_keys": [
            "JobStatus", "StatusMessage", "VideoMetadata", "JobId", "Video", "JobTag"]}),
    "StartFaceSearch": _operation(
        "Start searching a collection for the faces of a stored video; get-face-search reads "
        "the result.",
        [_VIDEO,
         _TOKEN_VIDEO,
         ("FaceMatchThreshold", "Percent", "Minimum similarity (0-100) of a returned match."),
         _COLLECTION,
         _NOTIFICATION,
         _JOB_TAG],
        ["JobId:JobId"], required=("Video", "CollectionId"),
        defaults={"FaceMatchThreshold": 80.0}, kind="video"),
    "GetFaceSearch": _operation(
        "Read the status and the people found by a start-face-search job, with their matches.",
        [_JOB_ID,
         ("MaxResults", "VideoMaxResults", "Maximum number of person entries per page (at "
                                           "most 1000)."),
         ("NextToken", "PaginationToken", "Token from a previous, truncated response."),
         ("SortBy", "FaceSearchSortBy", "TIMESTAMP (default) or INDEX: order by time, or by "
                                        "person then time.")],
        ["JobStatus:VideoJobStatus", "StatusMessage:String", "NextToken:PaginationToken",
         "VideoMetadata:VideoMetadata", "Persons:PersonMatches", "JobId:JobId", "Video:Video",
         "JobTag:JobTag"],
        required=("JobId",), defaults={"SortBy": "TIMESTAMP"}, kind="video",
        paginator={"result_keys": ["Persons"], "non_aggregate_keys": [
            "JobStatus", "StatusMessage", "VideoMetadata", "JobId", "Video", "JobTag"]}),
}

# Image members that the aws CLI also offers as raw-bytes options (`--image-bytes fileb://x`).
BLOB_HELPERS = {"SourceImage": "source-image-bytes", "TargetImage": "target-image-bytes",
                "Image": "image-bytes"}


def shape(name: str) -> dict:
    return SHAPES[name]


def operation(name: str) -> dict:
    return OPERATIONS[name]


def kebab(name: str) -> str:
    """CompareFaces -> compare-faces; CollectionARN stays readable (collection-arn)."""
    out = []
    for i, ch in enumerate(name):
        prev_lower = i > 0 and (name[i - 1].islower() or name[i - 1].isdigit())
        next_lower = i + 1 < len(name) and name[i + 1].islower()
        if ch.isupper() and i > 0 and (prev_lower or (next_lower and name[i - 1].isupper())):
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


COMMANDS: dict[str, str] = {kebab(op): op for op in OPERATIONS}
