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


# ---- the batch commands (rekcli/cli/batch_commands.py) ---------------------------------------
#
# Their pages are built like the API commands' pages; the options that pass a member through
# to the operation each image runs (--quality-filter ...) take their types, limits and
# defaults from the model. Example outputs are what the commands printed for the shared photos
# (one JSON line per item), run in this order from the photos' folder, after
# `rekcli create-collection --collection-id family` (tools/example_runs.py).

BATCH_DESCRIPTIONS: dict[str, list[str]] = {
    "index-folder": [
        "Each image runs index-faces: its faces are detected, filtered by --quality-filter and "
        "--max-faces (largest first), and stored in the collection with the image's name as "
        "ExternalImageId. The face models are loaded once per worker process, not once per "
        "image, so a folder indexes several times faster than a loop of rekcli index-faces.",
        "The ExternalImageId is the image's path under the folder it was found in, with ':' "
        "for each '/': people/obama/obama.jpg found in people is obama:obama.jpg. A pattern's "
        "folder is the part before its first wildcard, so 'people/**/*.jpg' names the photos "
        "as people --recursive does; a file named in --images is known by its file name. "
        "Characters outside a-z, A-Z, 0-9 and _.-: become '_', and a name longer than 255 "
        "characters is cut and ends with a hash of the whole.",
        "Names are unique within a run, and a name that is unique keeps this spelling. When "
        "files would share one: the file the collection already holds under it keeps it (or "
        "else one whose file name is already exactly that name); the others are named from the "
        "folder above that tells them apart (a/x.jpg and b/x.jpg from --images a b: a:x.jpg, "
        "b:x.jpg), and if that is not enough (names that differ only in characters replaced "
        "by '_', as cafe with two different accents both give caf_.jpg), the name gets 8 hex digits of a hash of the exact path before its extension: "
        "caf_-a4baa578.jpg. Give the same folders every time: a photo reached from another "
        "folder gets another name and is indexed again.",
        "An image the collection already holds under the same ExternalImageId (the same bytes "
        "and the same name) is skipped before any face analysis, at the cost of reading the "
        "file: its line says \"Skipped\": \"ALREADY_INDEXED\". Running the same command again, "
        "every night say, indexes only the new photos. An image in which no face was indexed "
        "(none found, or all filtered) is skipped too, as ALREADY_ANALYSED_NO_FACES, when "
        "--quality-filter is the same; another filter or detector, or a new engine, analyses it "
        "again.",
    ],
    "search-folder": [
        "Each image runs search-faces-by-image: its largest face is looked for in the "
        "collection, and the faces at or above --face-match-threshold are returned, most "
        "similar first. An image without a face fails with InvalidParameterException; the "
        "batch goes on. Nothing is written to the collection.",
    ],
    "compare-folder": [
        "Each image runs compare-faces with the reference photo as the source image: the "
        "largest face of the reference is compared with up to the 100 largest faces of the "
        "image. Faces at or above --similarity-threshold are returned in FaceMatches, most "
        "similar first, the others in UnmatchedFaces. The reference is checked first: when it "
        "cannot be read or has no face that passes --quality-filter, the command fails at "
        "once naming it (InvalidParameterException, or InvalidImageFormatException, exit "
        "254) and no image is compared. No collection is needed.",
    ],
    "batch": [
        "<command> is the API command every request is for (detect-faces, index-faces, "
        "search-faces-by-image ...). Each line of --input-file (or of stdin, without it or "
        "with -) is one request: a JSON object as --cli-input-json takes it, the members of "
        "the request with their API names (rekcli <command> --generate-cli-skeleton prints a "
        "template). Blank lines are skipped. An image member ({\"Bytes\": ...}) takes base64 "
        "text (or raw text with --cli-binary-format raw-in-base64-out), \"fileb://path\" to "
        "read a file, or {\"S3Object\": {\"Bucket\": ..., \"Name\": ...}}.",
        "All lines are read and parsed before any request runs: a line that is not a JSON "
        "object stops the batch at once with a ParamValidation error naming the line "
        "(exit 252). A request that is wrong in any other way fails alone.",
        "Each output line is the response of that request, as rekcli <command> prints it, "
        "on one line, so output line N answers the Nth request (blank lines are not "
        "requests). A command whose response is empty (create-user, tag-resource ...) "
        "prints {} (an empty line with --output text). A failed request's line also names "
        "its line of the input file: {\"Line\": 4, \"Error\": {...}}.",
    ],
}

# Where the images come from: the same paragraph on the three folder pages.
IMAGES_DESCRIPTION = (
    "--images takes image files, folders and quoted glob patterns ('photos/*.jpg', "
    "'photos/**/*.png'). Folders and patterns give their .jpg, .jpeg and .png files, any case "
    "(with --recursive, the files of sub-folders too, symlinked ones included); a file named "
    "directly is always taken. The images are processed in the order of their paths, each "
    "once. --images - reads the paths from stdin instead, one a line (or separated by NUL "
    "bytes, as find -print0 writes them), each taken as written: no pattern, no ~. A listed "
    "file is named by its path as written (cd photos; find . -name '*.jpg' | rekcli "
    "index-folder --images - names the photos as --images photos --recursive does), or by "
    "its file name when that path is absolute or starts with '..'. A named file or folder "
    "that does not exist, or that cannot be read, gives an error "
    "line (FileError) and the job goes on; a file over 5 MB gives ImageTooLargeException "
    "without being read. A file name that is not valid UTF-8 is printed as its own bytes "
    "with --output text and table, so a script reading the lines can open the file; JSON "
    "and YAML stay valid UTF-8 by writing each such byte as the escape \\udcXX (byte 0xe9 "
    "is \\udce9, Python's surrogateescape: os.fsencode(json.loads(line)[\"Image\"]) gives "
    "the name's bytes back).")

# The same on every batch page; help.py fills in {item} ("image" or "request"), {An_item},
# {error_line}, {usage_errors} (what makes the whole command fail with 252) and {job_input}
# (what identifies a job's input for resuming it: BATCH_JOB_INPUTS).
BATCH_COMMON_DESCRIPTION = [
    "The output is one line per {item}, in input order whatever the number of --workers: "
    "JSON Lines with --output json, the default; with --output text too, each line's "
    "fields separated by tabs ({text_line}); yaml prints a document (---) and table a table "
    "per {item}. --query applies to each line as printed (a folder job's line is "
    "{{\"Image\": ..., \"Response\": ...}}, so its queries start with Response.), except "
    "error lines; a line it cannot be "
    "applied to (a JMESPath type error) is printed whole, with a warning on stderr.",
    "{An_item} that fails prints an error line, {error_line}, printed whole (never filtered "
    "by --query), and the batch goes on.",
    "Exit status: 0 when every {item} succeeded, 254 when any failed, 130 after Ctrl-C, 143 "
    "after SIGTERM, 252 when the command line is wrong ({usage_errors}).",
    "Interruptions: Ctrl-C or SIGTERM stops the workers and keeps every line already "
    "printed; workers whose batch process was killed end with it. Running "
    "the same command again (after Ctrl-C, kill -9 or a reboot) continues where it stopped: "
    "finished results are replayed from a journal kept in the data directory until the job "
    "completes (or, never re-run, for 30 days), and only the rest is computed. A run continues an earlier job when these are "
    "the same: the command, the region, the {job_input} and the options that shape the "
    "requests (--workers, --query and the output options may change). Any other change "
    "starts the job afresh. A result is replayed only when a fresh run would print it: "
    "not when a file it read changed since (path, inode, size, modification and change "
    "time), nor when its collection was deleted or made again, nor, for index-faces, when "
    "a face it indexed was deleted, nor, for anything else that uses a collection, when the "
    "collection changed. Journals are private (0600) and delete-collection and delete-faces "
    "remove the journals of jobs that use that collection. A journal that cannot be "
    "written (a full disk) gives one warning on stderr and the job goes on.",
    "Progress (done/total, rate, time left, failures) is drawn on stderr only when stderr "
    "is a terminal, so pipes and cron get pure data on stdout and nothing on stderr. "
    "--progress prints plain progress lines on stderr even when it is not a terminal; "
    "--no-progress shows none.",
]

BATCH_JOB_INPUTS = {
    "index-folder": "images (each by path, inode, size, modification and change time), the "
                    "collection (not deleted and made again)",
    "search-folder": "images (each by path, inode, size, modification and change time), the "
                     "collection and its faces and users",
    "compare-folder": "reference photo, the images (each by path, inode, size, modification "
                      "and change time)",
    "batch": "request lines",
}

# Sentences added to a batch option's own help text on its pages.
BATCH_OPTION_NOTES: dict[str, list[str]] = {
    "--images": ["From folders and patterns only .jpg, .jpeg and .png files are taken; a "
                 "pattern must be quoted so that rekcli, not the shell, expands it."],
    "--input-file": ["Default: - (stdin)"],
    "--workers": ["Each worker is a process of its own (about 300 MB); more workers than "
                  "cores add memory, not speed."],
    "--progress": ["Progress never goes to stdout."],
}

# The members of one output line, besides the response (see help.py batch_output).
BATCH_LINE_DOCS: dict[str, str] = {
    "Line": "The line of the input file that held the failed request (blank lines count).",
    "Image": "The image file, as --images found it (relative when --images was).",
    "ExternalImageId": "The name the image's faces are stored under in the collection.",
    "Skipped": "ALREADY_INDEXED: the collection already holds this image under this "
               "ExternalImageId; ALREADY_ANALYSED_NO_FACES: an earlier run with the same "
               "QualityFilter found no face to index in it. Either way nothing was analysed "
               "or stored.",
    "Error": "Why this {item} failed; the line then has no {response}.",
    "Error.Code": "A service error code (InvalidImageFormatException, "
                  "InvalidParameterException, ImageTooLargeException ...), ParamValidation "
                  "for a request the parameter checks reject, FileError when a file could not "
                  "be read.",
    "Error.Message": "What went wrong, as the command alone would print it.",
}

BATCH_EXAMPLES: dict[str, list[Example]] = {
    "index-folder": [
        Example(
            "To index every photo of a folder tree",
            "Indexes the photos of people/ and its sub-folders into the collection family, "
            "one worker per core. --query keeps of each line the ExternalImageId and the "
            "FaceIds stored (null for a photo skipped on a later run).",
            "rekcli index-folder --collection-id family --images people --recursive "
            "--query '[ExternalImageId, Response.FaceRecords[].Face.FaceId]'"),
        Example(
            "To run the same job again",
            "After an interruption, or the next night from cron: every photo already indexed "
            "is skipped without any face analysis, and new photos would be indexed.",
            "rekcli index-folder --collection-id family --images people --recursive "
            "--query '[ExternalImageId, Skipped]'"),
    ],
    "search-folder": [
        Example(
            "To find who is in each photo of a folder",
            "Searches the collection family (indexed as in rekcli index-folder help) with the "
            "largest face of each group photo and of a photo of a dog. --query keeps the "
            "photo and the ExternalImageId of its best match; the dog has no face, so its "
            "line is an error, printed whole, and the exit code is 254.",
            "rekcli search-folder --collection-id family --images groups noface/dog.jpg "
            "--query '[Image, Response.FaceMatches[0].Face.ExternalImageId]'"),
    ],
    "compare-folder": [
        Example(
            "To find a face in every photo of a folder",
            "Compares the face of obama.jpg with the faces of each group photo; --query keeps "
            "the photo and the similarity of its best match (null: no face matched).",
            "rekcli compare-folder --source-image-bytes fileb://people/obama/obama.jpg "
            "--images groups --query '[Image, Response.FaceMatches[0].Similarity]'"),
    ],
    "batch": [
        Example(
            "To count the faces of many photos",
            "Writes one detect-faces request per group photo, then runs them all; each line "
            "of the output answers the request on the same line of requests.jsonl.",
            "printf '{\"Image\": {\"Bytes\": \"fileb://%s\"}}\\n' groups/*.jpg > requests.jsonl\n"
            "rekcli batch detect-faces --input-file requests.jsonl "
            "--query 'length(FaceDetails)'"),
    ],
}


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
    table = {example_key("api", name, i): example
             for name, items in EXAMPLES.items() for i, example in enumerate(items)}
    table.update({example_key("batch", name, i): example
                  for name, items in BATCH_EXAMPLES.items() for i, example in enumerate(items)})
    table.update({example_key("tour", "", i): example for i, example in enumerate(TOUR)})
    return table


def _with_recorded_outputs() -> None:
    from dataclasses import replace

    from rekcli.cli.example_outputs import OUTPUTS

    for section, table in (("api", EXAMPLES), ("batch", BATCH_EXAMPLES), ("tour", {"": TOUR})):
        for name, items in table.items():
            items[:] = [replace(example, output=OUTPUTS.get(example_key(section, name, i)))
                        if example.run else example for i, example in enumerate(items)]


_with_recorded_outputs()
