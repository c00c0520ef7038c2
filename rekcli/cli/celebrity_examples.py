"""Help words for recognize-celebrities and get-celebrity-info, merged into
rekcli/cli/examples.py's tables.

The examples run after `rekcli add-celebrity --name 'Barack Obama' --images
people/obama/obama.jpg ...` (tools/example_runs.py): the gallery holds him alone.
"""

from __future__ import annotations

_OWN_GALLERY = (
    "rekcli knows no celebrities. The gallery is your own: the people you added with "
    "`rekcli add-celebrity --name NAME --images PHOTO... [--urls URL...] [--known-gender "
    "G]` (list-celebrities lists them, delete-celebrity removes a person and their face "
    "descriptors). It is kept per region in the data directory, as privately as a "
    "collection. With an empty gallery every face is unrecognized; no name is ever "
    "invented.")

DESCRIPTIONS = {
    "RecognizeCelebrities": [
        _OWN_GALLERY,
        "Up to the 64 largest faces of the image are compared with every face of the "
        "gallery. A face whose nearest gallery face has a Similarity of at least 80 (the "
        "same scale as search-faces-by-image) is in CelebrityFaces with that person's Id, "
        "Name, Urls and KnownGender, and the Similarity as MatchConfidence; the others are "
        "in UnrecognizedFaces. Each face has its box, confidence, five landmarks, pose, "
        "quality and Smile (Emotions are not estimated and are omitted). An image without "
        "a face gives two empty lists.",
    ],
    "GetCelebrityInfo": [
        _OWN_GALLERY,
        "An Id that is not in the gallery is a ResourceNotFoundException (exit 254).",
    ],
}

MEMBER_DOCS = {
    "CelebrityFaces": "The faces recognized as people of your gallery.",
    "RecognizeCelebrities.UnrecognizedFaces": "The faces that match nobody of your gallery.",
    "Urls": "The --urls given when the person was added to the gallery.",
    "Celebrity.Name": "The person's name, as given to add-celebrity.",
    "GetCelebrityInfo.Name": "The person's name, as given to add-celebrity.",
    "Celebrity.Id": "The person's Id in the gallery (for get-celebrity-info).",
    "Celebrity.Face": "The face of the image that was recognized.",
    "MatchConfidence": "Similarity (0-100) of the face to the person's nearest gallery face.",
    "KnownGender": "The --known-gender given when the person was added; absent when none "
                   "was.",
    "KnownGender.Type": "Male, Female, Nonbinary or Unlisted.",
    "GetCelebrityInfo.Id": "Id of the celebrity.",
}

# The Id add-celebrity gives Barack Obama in the examples' run (ids there are drawn from a
# stream seeded by the command line, so it is the same every time).
CELEBRITY_ID = "H36swVgs"
GALLERY_SETUP = ("rekcli add-celebrity --name 'Barack Obama' --images people/obama/obama.jpg "
                 "--urls https://en.wikipedia.org/wiki/Barack_Obama --known-gender Male")


def _examples():
    from rekcli.cli.examples import Example

    return {
        "RecognizeCelebrities": [
            Example("To recognize the people of your gallery in a photo",
                    "Your gallery holds Barack Obama (added from obama.jpg); "
                    "the other face of two_people.jpg is unrecognized. --query keeps the "
                    "names and confidences.",
                    "rekcli recognize-celebrities --image-bytes fileb://groups/two_people.jpg "
                    "--query '{Celebrities: CelebrityFaces[].[Name, Id, MatchConfidence], "
                    "Unrecognized: length(UnrecognizedFaces)}'"),
        ],
        "GetCelebrityInfo": [
            Example("To look up a recognized person",
                    "The Id is the one recognize-celebrities printed (or add-celebrity, or "
                    "list-celebrities).",
                    f"rekcli get-celebrity-info --id {CELEBRITY_ID}"),
        ],
    }


def add_celebrity_examples(member_docs: dict, descriptions: dict, examples: dict) -> None:
    for key, text in MEMBER_DOCS.items():
        member_docs.setdefault(key, text)
    descriptions.update(DESCRIPTIONS)
    examples.update(_examples())
