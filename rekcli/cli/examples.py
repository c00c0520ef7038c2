"""The words of help that the API model does not carry: examples, descriptions, member docs.

rekcli/service/model.py says what each operation takes and returns, with a one-line help per
input member. Help pages (rekcli/cli/help.py) and man pages also want a few paragraphs per
command, a sentence per nested or output member, and worked examples; they live here so that
the model stays a compact description of the API.

Examples run from the folder of the shared test photos (`../shared/faces`: `people/<name>/`
with one face per photo, `groups/` with several). Their outputs are not written here: they
are what the commands printed when tools/generate_docs.py last ran them, in the order of
tools/example_runs.py, against a fresh data directory (rekcli/cli/example_outputs.py, a
generated file). `generate_docs.py --check` runs them again and fails when an output drifts,
and tests/test_help.py parses every example command with the real argv grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Example:
    title: str             # "To compare a face with the faces of a group photo"
    text: str              # what the command does, one or two sentences
    command: str           # one line per command; help breaks long ones with " \"
    output: Any = None     # filled from the recorded run (example_outputs.py): a JSON object
                           # (printed like --output json), a str (printed as is), or None when
                           # the command printed nothing
    run: bool = True       # False: shown without an output, and not run by the docs tool


# ---- longer descriptions: paragraphs after the model's one-line summary --------------------

DESCRIPTIONS: dict[str, list[str]] = {
    "CompareFaces": [
        "Only the largest face of the source image is used. Up to the 100 largest faces of the "
        "target image are compared with it: those at or above --similarity-threshold are "
        "returned in FaceMatches, most similar first, and the others in UnmatchedFaces. An "
        "image without a face is an InvalidParameterException.",
        "Similarity comes from the distance between dlib's 128-dimensional face descriptors, "
        "mapped onto Rekognition's 0-100 scale so that dlib's own same-person distance (0.6) "
        "lands at the default threshold of 80.",
    ],
    "DetectFaces": [
        "Each face comes with its bounding box, five landmarks, pose, image quality and a "
        "confidence, as ratios of the EXIF-corrected image size. An image without faces gives "
        "an empty FaceDetails list, not an error.",
        "--attributes ALL adds all 30 landmarks, EyesOpen, MouthOpen and Smile (measured from "
        "the landmarks), and AgeRange and Gender, estimated by Cydral's age and gender "
        "networks: those two need the age-gender extra (pip install 'rekcli[age-gender]', "
        "Python 3.11 or later) and are omitted without it. AgeRange spans the central 90% of "
        "the age network's probabilities and at least 5 years either side of its expected "
        "age. Beard, Emotions, Eyeglasses and the other attributes are never returned: "
        "rekcli has no model for them.",
    ],
    "IndexFaces": [
        "Faces are detected as by detect-faces, filtered by --quality-filter and --max-faces "
        "(largest first), and their descriptors are stored in the collection. Each stored face "
        "gets a new FaceId; the image gets an ImageId. Faces that were not stored are listed in "
        "UnindexedFaces with the reasons why.",
        "Give --external-image-id to tag every face of the image with your own id (a file "
        "name, say); it comes back in search results.",
    ],
    "SearchFaces": [
        "The face is looked up by its FaceId, then compared with every other face of the "
        "collection. Matches at or above --face-match-threshold are returned, most similar "
        "first; the searched face itself is never among them.",
    ],
    "SearchFacesByImage": [
        "Only the largest face of the image is searched for; SearchedFaceBoundingBox tells "
        "which one it was. Matches at or above --face-match-threshold are returned, most "
        "similar first. An image without a face is an InvalidParameterException.",
    ],
    "CreateCollection": [
        "A collection keeps face descriptors, never the images. Collections are kept per "
        "region, on this machine, in the data directory ($REKCLI_DATA_DIR, else "
        "${XDG_DATA_HOME:-~/.local/share}/rekcli).",
    ],
    "DeleteCollection": [
        "The collection and everything in it are removed from disk. This cannot be undone.",
    ],
    "DescribeCollection": [
        "Use the CollectionARN it prints with tag-resource, untag-resource and "
        "list-tags-for-resource.",
    ],
    "ListCollections": [
        "FaceModelVersions[i] is the face model version of CollectionIds[i].",
    ],
    "ListFaces": [
        "Give --user-id to list only the faces associated with that user, or --face-ids to "
        "list only those faces.",
    ],
    "DeleteFaces": [
        "Faces that could not be deleted (unknown, or still associated with a user) are listed "
        "in UnsuccessfulFaceDeletions with the reasons why.",
    ],
    "CreateUser": [
        "A user groups the faces of one person, so that search-users and "
        "search-users-by-image can answer with a person instead of single faces. A new user "
        "has no faces; add them with associate-faces.",
    ],
    "DeleteUser": [
        "The faces that were associated with the user stay in the collection, no longer "
        "associated with anyone.",
    ],
    "ListUsers": [
        "Each user comes with its UserStatus: CREATED while it has no faces, ACTIVE once it "
        "has.",
    ],
    "AssociateFaces": [
        "A user holds at most 100 faces. When the user already has faces, a new face is only "
        "associated if it matches them with at least --user-match-threshold similarity; faces "
        "that were not associated are listed in UnsuccessfulFaceAssociations with the reasons "
        "why.",
    ],
    "DisassociateFaces": [
        "The faces stay in the collection.",
    ],
    "SearchUsers": [
        "Give either --user-id or --face-id. Users at or above --user-match-threshold are "
        "returned, most similar first; a searched user is never among its own matches.",
    ],
    "SearchUsersByImage": [
        "Only the largest face of the image is searched for; the other faces are listed in "
        "UnsearchedFaces with the reasons why.",
    ],
    "TagResource": [
        "Tags are key=value pairs kept with the collection, for your own bookkeeping.",
    ],
    "UntagResource": [
        "Keys the collection does not have are ignored.",
    ],
    "ListTagsForResource": [
        "The tags come back as a map of key to value.",
    ],
}


# ---- docs of members the model describes only by name and shape ---------------------------
# Looked up as "<Structure or Operation>.<Member>" first, then "<Member>".

MEMBER_DOCS: dict[str, str] = {
    # input structures
    "Image.Bytes": "The image file's bytes (base64 in JSON). From the command line, "
                   "fileb://path reads them from a file.",
    "Image.S3Object": "An image in S3 or an S3-compatible store, read with your aws "
                      "credentials (needs rekcli[s3]); with REKCLI_S3_ROOT set, the file "
                      "$REKCLI_S3_ROOT/<Bucket>/<Name> instead.",
    "S3Object.Bucket": "Name of the bucket (with REKCLI_S3_ROOT: a folder under it).",
    "S3Object.Name": "Key of the object (with REKCLI_S3_ROOT: the file's path inside the "
                     "bucket folder).",
    "S3Object.Version": "Version of the object in a versioned bucket. With REKCLI_S3_ROOT "
                        "set it is not supported: a local bucket folder keeps one version of "
                        "each file, so a request naming a Version fails with "
                        "InvalidS3ObjectException rather than read a file that may not be "
                        "that version.",
    "TagMap.key": "Tag key; must not start with aws:.",
    "TagMap.value": "Tag value.",
    # geometry
    "BoundingBox": "Where the face is, as ratios of the image width and height (origin top "
                   "left); values may fall outside 0-1 for a face cut by the image edge.",
    "SearchedFaceBoundingBox": "Bounding box of the face that was searched for (the largest "
                               "face of the image).",
    "Width": "Width of the box, as a ratio of the image width.",
    "Height": "Height of the box, as a ratio of the image height.",
    "Left": "Left edge of the box, as a ratio of the image width.",
    "Top": "Top edge of the box, as a ratio of the image height.",
    "Landmarks": "Points of the face (eyes, nose, mouth corners ...); left and right are as "
                 "seen in the image, not by the person.",
    "Landmark.Type": "Which point of the face.",
    "Emotion.Type": "Which emotion.",
    "X": "Horizontal position, as a ratio of the image width.",
    "Y": "Vertical position, as a ratio of the image height.",
    "Pose": "Head orientation in degrees.",
    "Roll": "Rotation of the head in the image plane (degrees).",
    "Yaw": "Rotation of the head left or right (degrees).",
    "Pitch": "Rotation of the head up or down (degrees).",
    "Quality": "Brightness and sharpness of the face, 0-100, higher is better.",
    "Brightness": "Brightness of the face region, 0-100.",
    "Sharpness": "Sharpness of the face region, 0-100.",
    "Confidence": "Confidence (0-100) that the box holds a face.",
    "UnsuccessfulFaceAssociation.Confidence": "Similarity of the face to the user's faces, set "
                                              "when it was too low.",
    # face attributes
    "AgeRange": "Estimated age range in years.",
    "Low": "Lowest estimated age.",
    "High": "Highest estimated age.",
    "Smile": "Whether the face smiles.",
    "Eyeglasses": "Whether the face wears glasses.",
    "Sunglasses": "Whether the face wears sunglasses.",
    "Gender": "Predicted gender presentation.",
    "Beard": "Whether the face has a beard.",
    "Mustache": "Whether the face has a mustache.",
    "EyesOpen": "Whether the eyes are open.",
    "MouthOpen": "Whether the mouth is open.",
    "FaceOccluded": "Whether part of the face is hidden (mask, hand, dark glasses).",
    "Emotions": "Emotions the face appears to show, most likely first.",
    "EyeDirection": "Where the eyes look, independent of the head pose.",
    "BooleanAttribute.Value": "True when the face has the attribute.",
    "Gender.Value": "The predicted gender.",
    "BooleanAttribute.Confidence": "Confidence (0-100) in the value.",
    "Gender.Confidence": "Confidence (0-100) in the value.",
    "Emotion.Confidence": "Confidence (0-100) that the face shows this emotion.",
    "EyeDirection.Confidence": "Confidence (0-100) in the direction.",
    "FaceDetail": "What was detected about the face: box, landmarks, pose, quality and the "
                  "attributes asked for.",
    "FaceDetails": "The faces found, each with its details.",
    "UnsearchedFace.FaceDetails": "The face that was not searched for.",
    "OrientationCorrection": "Not returned: images are turned upright by their EXIF "
                             "orientation and coordinates refer to the upright image.",
    "SourceImageOrientationCorrection": "Not returned (see OrientationCorrection).",
    "TargetImageOrientationCorrection": "Not returned (see OrientationCorrection).",
    # compare-faces
    "SourceImageFace": "The face of the source image that was compared (its largest).",
    "CompareFaces.FaceMatches": "Target faces at or above the similarity threshold, most "
                                "similar first.",
    "CompareFaces.UnmatchedFaces": "Target faces below the similarity threshold.",
    "UnmatchedFaces": "Target faces below the similarity threshold.",
    "Similarity": "How alike the two faces are, 0-100.",
    "CompareFacesMatch.Face": "The matching face of the target image.",
    # collection faces
    "Face": "A face stored in the collection.",
    "FaceId": "ID the collection gave the face.",
    "ImageId": "ID of the image the face was indexed from.",
    "ExternalImageId": "The --external-image-id given when the face was indexed.",
    "IndexFacesModelVersion": "Face model version that made the face's descriptor.",
    "UserId": "User the face is associated with, if any.",
    "User": "The matching user.",
    "UserStatus": "State of the user: ACTIVE (searchable), UPDATING, CREATING or CREATED "
                  "(no faces yet).",
    "FaceModelVersion": "Face model version of the collection.",
    "FaceModelVersions": "Face model version of each collection, in the order of CollectionIds.",
    "FaceRecords": "The faces added to the collection, largest first.",
    "FaceRecord.Face": "The face as stored in the collection.",
    "FaceRecord.FaceDetail": "What was detected about the face (not stored).",
    "UnindexedFaces": "Faces that were found but not added, with the reasons why.",
    "Reasons": "Why the face was left out.",
    "FaceMatches": "Faces of the collection at or above the match threshold, most similar "
                   "first.",
    "SearchedFaceId": "ID of the face that was searched for.",
    "SearchedFaceConfidence": "Confidence (0-100) that the searched box holds a face.",
    "Faces": "Faces of the collection, sorted by FaceId.",
    "NextToken": "Token for the next page; absent on the last page.",
    "DeletedFaces": "IDs of the faces that were deleted.",
    "UnsuccessfulFaceDeletions": "Faces that could not be deleted, with the reasons why.",
    # collections
    "StatusCode": "200 when the call succeeded.",
    "CollectionArn": "ARN of the new collection (without the arn: prefix, as AWS prints it).",
    "CollectionARN": "ARN of the collection, for the tagging commands.",
    "CollectionIds": "IDs of the collections of this region.",
    "FaceCount": "Number of faces in the collection.",
    "UserCount": "Number of users in the collection.",
    "CreationTimestamp": "When the collection was created.",
    "Tags": "The collection's tags.",
    # users
    "Users": "Users of the collection.",
    "AssociatedFaces": "Faces now associated with the user.",
    "UnsuccessfulFaceAssociations": "Faces that were not associated, with the reasons why.",
    "DisassociatedFaces": "Faces no longer associated with the user.",
    "UnsuccessfulFaceDisassociations": "Faces that were not disassociated, with the reasons "
                                       "why.",
    "UnsuccessfulFaceDisassociation.UserId": "User the face belongs to instead, if any.",
    "UnsuccessfulFaceAssociation.UserId": "User the face already belongs to, if any.",
    "UnsuccessfulFaceDeletion.UserId": "User the face is still associated with.",
    "UserMatches": "Users at or above the match threshold, most similar first.",
    "SearchedFace": "The face that was searched for.",
    "SearchedUser": "The user that was searched for.",
    "UnsearchedFaces": "Faces of the image that were not searched for, with the reasons why.",
}


# ---- worked examples -------------------------------------------------------------------

# The FaceIds the examples' index-faces commands create when tools/example_runs.py runs them
# (each run draws its ids from a stream seeded by its command line).
OBAMA_FACE_ID = "e6f02b1e-73fa-406e-8e1c-98f6c3bd8898"
OBAMA2_FACE_ID = "d765a799-acfd-43e5-9e29-8871e44e9ab5"
BIDEN_FACE_ID = "f99357ed-6ab5-4ab6-847f-89950069bad7"
COLLECTION_ARN = "arn:aws:rekognition:us-east-1:000000000000:collection/family"

# Examples of the tagging commands first read the collection's ARN into a shell variable.
_ARN_FROM_DESCRIBE = ("ARN=$(rekcli describe-collection --collection-id family "
                      "--query CollectionARN --output text)")
SHELL_VARIABLES = {"ARN": COLLECTION_ARN}   # what the examples' variables hold, for tests

EXAMPLES: dict[str, list[Example]] = {
    "CompareFaces": [
        Example(
            "To compare a face with the faces of a group photo",
            "Compares the face of obama.jpg with both faces of two_people.jpg: the left one "
            "matches, the other does not.",
            "rekcli compare-faces --source-image-bytes fileb://people/obama/obama.jpg "
            "--target-image-bytes fileb://groups/two_people.jpg"),
        Example(
            "To print only the similarity of the best match",
            "Images may also come from a local bucket folder: with REKCLI_S3_ROOT=$PWD the "
            "bucket 'people' is the folder people/. A stricter threshold and --query keep the "
            "output to one number.",
            "rekcli compare-faces "
            "--source-image 'S3Object={Bucket=people,Name=obama/obama.jpg}' "
            "--target-image 'S3Object={Bucket=people,Name=obama/obama2.jpg}' "
            "--similarity-threshold 90 --query 'FaceMatches[0].Similarity' --output text"),
    ],
    "DetectFaces": [
        Example(
            "To detect the faces of a photo",
            "Prints the bounding box, five landmarks, pose, quality and confidence of the one "
            "face of obama.jpg.",
            "rekcli detect-faces --image-bytes fileb://people/obama/obama.jpg"),
        Example(
            "To count the faces of a photo",
            "--query turns the response into the number of faces found.",
            "rekcli detect-faces --image-bytes fileb://groups/obama_and_biden.jpg "
            "--query 'length(FaceDetails)'"),
    ],
    "IndexFaces": [
        Example(
            "To add the faces of a photo to a collection",
            "Indexes the face of obama.jpg into the collection family and tags it with the "
            "file name.",
            "rekcli index-faces --collection-id family "
            "--image-bytes fileb://people/obama/obama.jpg --external-image-id obama.jpg"),
    ],
    "SearchFaces": [
        Example(
            "To find the faces that match a face of the collection",
            "Searches the collection family for faces like the face indexed from obama.jpg.",
            f"rekcli search-faces --collection-id family --face-id {OBAMA_FACE_ID}"),
    ],
    "SearchFacesByImage": [
        Example(
            "To find who is in a photo",
            "Searches the collection family (which holds the faces of obama.jpg and "
            "obama2.jpg) for the largest face of obama3.jpg.",
            "rekcli search-faces-by-image --collection-id family "
            "--image-bytes fileb://people/obama/obama3.jpg"),
        Example(
            "To print only the file name of the best match",
            "",
            "rekcli search-faces-by-image --collection-id family "
            "--image-bytes fileb://people/obama/obama3.jpg "
            "--query 'FaceMatches[0].Face.ExternalImageId' --output text"),
    ],
    "CreateCollection": [
        Example(
            "To create a collection",
            "Creates the collection family in the current region (us-east-1 unless --region, "
            "AWS_REGION or the profile says otherwise).",
            "rekcli create-collection --collection-id family"),
    ],
    "DeleteCollection": [
        Example(
            "To delete a collection",
            "Deletes the collection family with all its faces and users.",
            "rekcli delete-collection --collection-id family"),
    ],
    "DescribeCollection": [
        Example(
            "To describe a collection",
            "",
            "rekcli describe-collection --collection-id family"),
    ],
    "ListCollections": [
        Example(
            "To list the collections",
            "Lists the collections of the current region.",
            "rekcli list-collections"),
    ],
    "ListFaces": [
        Example(
            "To list the faces of a collection",
            "",
            "rekcli list-faces --collection-id family"),
        Example(
            "To list the file names of the faces, a page at a time",
            "--max-items stops after one face and prints a NextToken; give it to "
            "--starting-token to continue.",
            "rekcli list-faces --collection-id family --max-items 1 "
            "--query '{Names: Faces[].ExternalImageId, NextToken: NextToken}'"),
    ],
    "DeleteFaces": [
        Example(
            "To delete a face from a collection",
            "",
            f"rekcli delete-faces --collection-id family --face-ids {BIDEN_FACE_ID}"),
        Example(
            "To see why a face was not deleted",
            "Deleting it a second time: the face is gone.",
            f"rekcli delete-faces --collection-id family --face-ids {BIDEN_FACE_ID}"),
    ],
    "CreateUser": [
        Example(
            "To create a user",
            "Creates the user barack in the collection family. The command prints nothing.",
            "rekcli create-user --collection-id family --user-id barack"),
    ],
    "DeleteUser": [
        Example(
            "To delete a user",
            "The user's faces stay in the collection. The command prints nothing.",
            "rekcli delete-user --collection-id family --user-id barack"),
    ],
    "ListUsers": [
        Example(
            "To list the users of a collection",
            "",
            "rekcli list-users --collection-id family"),
    ],
    "AssociateFaces": [
        Example(
            "To associate two faces with a user",
            "",
            "rekcli associate-faces --collection-id family --user-id barack "
            f"--face-ids {OBAMA_FACE_ID} {OBAMA2_FACE_ID}"),
    ],
    "DisassociateFaces": [
        Example(
            "To remove a face from a user",
            "",
            "rekcli disassociate-faces --collection-id family --user-id barack "
            f"--face-ids {OBAMA2_FACE_ID}"),
    ],
    "SearchUsers": [
        Example(
            "To find the user a face belongs to",
            "The face is one of barack's own faces, hence the perfect score.",
            f"rekcli search-users --collection-id family --face-id {OBAMA2_FACE_ID}"),
    ],
    "SearchUsersByImage": [
        Example(
            "To find which user is in a photo",
            "Searches the users of the collection family for the largest face of obama3.jpg.",
            "rekcli search-users-by-image --collection-id family "
            "--image-bytes fileb://people/obama/obama3.jpg"),
    ],
    "TagResource": [
        Example(
            "To tag a collection",
            "The ARN comes from describe-collection. The command prints nothing.",
            f"{_ARN_FROM_DESCRIBE}\n"
            'rekcli tag-resource --resource-arn "$ARN" --tags owner=anna,purpose=door-camera'),
    ],
    "UntagResource": [
        Example(
            "To remove a tag from a collection",
            "The command prints nothing.",
            f"{_ARN_FROM_DESCRIBE}\n"
            'rekcli untag-resource --resource-arn "$ARN" --tag-keys purpose'),
    ],
    "ListTagsForResource": [
        Example(
            "To list the tags of a collection",
            "",
            f"{_ARN_FROM_DESCRIBE}\n"
            'rekcli list-tags-for-resource --resource-arn "$ARN"'),
    ],
}

# The walk-through of `rekcli help` and rekcli(1): a collection from start to search.
TOUR: list[Example] = [
    Example("To compare two photos", "",
            "rekcli compare-faces --source-image-bytes fileb://people/obama/obama.jpg "
            "--target-image-bytes fileb://groups/two_people.jpg", run=False),
    Example("To build a collection and search it", "",
            "rekcli create-collection --collection-id family\n"
            "rekcli index-faces --collection-id family "
            "--image-bytes fileb://people/obama/obama.jpg --external-image-id obama.jpg\n"
            "rekcli search-faces-by-image --collection-id family "
            "--image-bytes fileb://people/obama/obama2.jpg "
            "--query 'FaceMatches[0].Face.ExternalImageId' --output text"),
    Example("To list the faces of a collection ten at a time", "",
            "rekcli list-faces --collection-id family --max-items 10", run=False),
    Example("To index every photo of a folder tree, skipping those already indexed", "",
            "rekcli index-folder --collection-id family --images people --recursive",
            run=False),
]


# Stored video (start-/get-face-detection, start-/get-face-search): kept in their own module.
from rekcli.cli.video_examples import add_video_examples  # noqa: E402

add_video_examples(MEMBER_DOCS, DESCRIPTIONS, EXAMPLES)

# recognize-celebrities and get-celebrity-info over the user's own gallery.
from rekcli.cli.celebrity_examples import add_celebrity_examples  # noqa: E402

add_celebrity_examples(MEMBER_DOCS, DESCRIPTIONS, EXAMPLES)


# ---- the recorded outputs --------------------------------------------------------------------

def example_key(section: str, name: str, index: int) -> str:
    """How example_outputs.py and tools/example_runs.py name an example: api:CompareFaces/0,
    batch:index-folder/1, tour:/1."""
    return f"{section}:{name}/{index}"


def all_examples() -> dict[str, Example]:
    """Every example by key, in page order."""
    from rekcli.cli.batch_commands import BATCH_COMMANDS

    table = {example_key("api", name, i): example
             for name, items in EXAMPLES.items() for i, example in enumerate(items)}
    table.update({example_key("batch", name, i): example
                  for name, command in BATCH_COMMANDS.items()
                  for i, example in enumerate(with_outputs("batch", name, command.examples))})
    table.update({example_key("tour", "", i): example for i, example in enumerate(TOUR)})
    return table


def with_outputs(section: str, name: str, items) -> list[Example]:
    """The examples with the outputs recorded for them (read now: generate_docs reloads them)."""
    from dataclasses import replace

    from rekcli.cli.example_outputs import OUTPUTS

    return [replace(example, output=OUTPUTS.get(example_key(section, name, i)))
            if example.run else example for i, example in enumerate(items)]


def _with_recorded_outputs() -> None:
    for section, table in (("api", EXAMPLES), ("tour", {"": TOUR})):
        for name, items in table.items():
            items[:] = with_outputs(section, name, items)


_with_recorded_outputs()
