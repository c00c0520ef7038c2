"""Fixed numbers of the on-disk format and of the service quotas the store enforces."""

# The version string of the face engine (dlib ResNet descriptors). Every collection records
# the value current at its creation and keeps it forever (reference §1.10): vectors made by
# another engine version are not comparable, so a collection never changes model.
FACE_MODEL_VERSION = "1.0"

# Descriptors are 128 float32 values. On disk each face is one row of ROW_FLOATS float32:
#   [0:128]  the descriptor
#   [128]    its squared norm |x|^2, or TOMBSTONE_NORM once the face is deleted (a tombstone:
#            the rest of a deleted face's row is zeroed, so its descriptor is gone from disk)
#   [129]    zero
#   [130:132] (format 1) the CRC-32 of the row's bytes [0:130], as two float32 integers
#            (high and low 16 bits: finite, so they cannot disturb the product below)
# Rows are 16-byte aligned (measured ~15% faster matvec than 129 floats).
# With q' = [-2q, 1, 0, 0, 0] one matrix-vector product gives |x|^2 - 2x.q for every row,
# and adding |q|^2 gives the squared Euclidean distance; a tombstoned row comes out at
# TOMBSTONE_NORM or more, far past any real distance, and never matches.
DESCRIPTOR_SIZE = 128
NORM_COLUMN = 128
CHECKSUM_HIGH_COLUMN = 130
CHECKSUM_LOW_COLUMN = 131
CHECKSUMMED_BYTES = 130 * 4
ROW_FLOATS = 132
ROW_BYTES = ROW_FLOATS * 4
TOMBSTONE_NORM = float(2 ** 20)

# Vector file formats (info.vector_format): 0 = no checksums, +inf tombstones (rekcli before
# checksums; such a file is rewritten in format 1 by the next write to the collection);
# 1 = checksummed rows, finite tombstones.
VECTOR_FORMAT_LEGACY = 0
VECTOR_FORMAT = 1

# Online compaction: a write rewrites the vector file without its deleted rows once they are
# at least COMPACT_MIN_DELETED and at least COMPACT_DELETED_FRACTION of the file (chosen by
# measurement, benchmarks/bench_store_integrity.py).
COMPACT_MIN_DELETED = 4096
COMPACT_DELETED_FRACTION = 0.25

# Hard limit of the real service (reference §1.11).
MAX_FACES_PER_COLLECTION = 20_000_000
# Faces per user (reference §1.11).
MAX_FACES_PER_USER = 100
# Tags per resource: the AWS-wide tagging convention (reference §1.11, unverified for
# Rekognition). Going past it is TooManyTags.
MAX_TAGS_PER_RESOURCE = 50

# Idempotency tokens (ClientRequestToken) are remembered this long, then forgotten, so the
# table does not grow without bound (the CLI fills a fresh uuid4 into every call).
REQUEST_TOKEN_TTL_SECONDS = 24 * 3600

# How long a writer waits for another process's write lock on the same collection before
# giving up with StoreBusy (retryable). Writers hold it for milliseconds.
WRITE_LOCK_TIMEOUT_SECONDS = 120.0
# SQLite busy timeout, seconds.
BUSY_TIMEOUT_SECONDS = 60.0
# Leftover staging directories older than this are removed by the next create/delete.
STALE_STAGING_SECONDS = 3600.0
