"""The words of the batch commands' pages that their declarations
(rekcli/cli/batch_commands.py) take in: each command's description, what identifies its job
for resuming it, and its examples; and the paragraphs every batch page shares.

Their pages are built like the API commands' pages (rekcli/cli/help.py); the options that pass
a member through to the operation each image runs (--quality-filter ...) take their types,
limits and defaults from the model. Example outputs are what the commands printed for the
shared photos (one JSON line per item), run in this order from the photos' folder, after
`rekcli create-collection --collection-id family` (tools/example_runs.py); they are filled in
from rekcli/cli/example_outputs.py when a page is built (examples.with_outputs).
"""

from __future__ import annotations

from rekcli.cli.examples import Example


# ---- on every batch page ------------------------------------------------------------------

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
# (what identifies a job's input for resuming it: each declaration's job_input).
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


# Sentences added to a batch option's own help text on its pages.
BATCH_OPTION_NOTES: dict[str, list[str]] = {
    "--images": ["From folders and patterns only .jpg, .jpeg and .png files are taken; a "
                 "pattern must be quoted so that rekcli, not the shell, expands it."],
    "--input-file": ["Default: - (stdin)"],
    "--workers": ["Each worker is a process of its own (about 300 MB); more workers than "
                  "cores add memory, not speed."],
    "--progress": ["Progress never goes to stdout."],
}


# The members of one output line, besides the response (see help.py _batch_output).
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


# ---- index-folder --------------------------------------------------------------------

INDEX_FOLDER_DESCRIPTION = [
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
]

# What identifies the job, for resuming it.
INDEX_FOLDER_JOB_INPUT = ("images (each by path, inode, size, modification and change time), the "
                          "collection (not deleted and made again)")

INDEX_FOLDER_EXAMPLES = [
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
]


# ---- search-folder -------------------------------------------------------------------

SEARCH_FOLDER_DESCRIPTION = [
    "Each image runs search-faces-by-image: its largest face is looked for in the "
    "collection, and the faces at or above --face-match-threshold are returned, most "
    "similar first. An image without a face fails with InvalidParameterException; the "
    "batch goes on. Nothing is written to the collection.",
]

# What identifies the job, for resuming it.
SEARCH_FOLDER_JOB_INPUT = ("images (each by path, inode, size, modification and change time), the "
                           "collection and its faces and users")

SEARCH_FOLDER_EXAMPLES = [
    Example(
        "To find who is in each photo of a folder",
        "Searches the collection family (indexed as in rekcli index-folder help) with the "
        "largest face of each group photo and of a photo of a dog. --query keeps the "
        "photo and the ExternalImageId of its best match; the dog has no face, so its "
        "line is an error, printed whole, and the exit code is 254.",
        "rekcli search-folder --collection-id family --images groups noface/dog.jpg "
        "--query '[Image, Response.FaceMatches[0].Face.ExternalImageId]'"),
]


# ---- compare-folder ------------------------------------------------------------------

COMPARE_FOLDER_DESCRIPTION = [
    "Each image runs compare-faces with the reference photo as the source image: the "
    "largest face of the reference is compared with up to the 100 largest faces of the "
    "image. Faces at or above --similarity-threshold are returned in FaceMatches, most "
    "similar first, the others in UnmatchedFaces. The reference is checked first: when it "
    "cannot be read or has no face that passes --quality-filter, the command fails at "
    "once naming it (InvalidParameterException, or InvalidImageFormatException, exit "
    "254) and no image is compared. No collection is needed.",
]

# What identifies the job, for resuming it.
COMPARE_FOLDER_JOB_INPUT = ("reference photo, the images (each by path, inode, size, modification "
                            "and change time)")

COMPARE_FOLDER_EXAMPLES = [
    Example(
        "To find a face in every photo of a folder",
        "Compares the face of obama.jpg with the faces of each group photo; --query keeps "
        "the photo and the similarity of its best match (null: no face matched).",
        "rekcli compare-folder --source-image-bytes fileb://people/obama/obama.jpg "
        "--images groups --query '[Image, Response.FaceMatches[0].Similarity]'"),
]


# ---- batch ---------------------------------------------------------------------------

BATCH_DESCRIPTION = [
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
]

# What identifies the job, for resuming it.
BATCH_JOB_INPUT = "request lines"

BATCH_EXAMPLES = [
    Example(
        "To count the faces of many photos",
        "Writes one detect-faces request per group photo, then runs them all; each line "
        "of the output answers the request on the same line of requests.jsonl.",
        "printf '{\"Image\": {\"Bytes\": \"fileb://%s\"}}\\n' groups/*.jpg > requests.jsonl\n"
        "rekcli batch detect-faces --input-file requests.jsonl "
        "--query 'length(FaceDetails)'"),
]
