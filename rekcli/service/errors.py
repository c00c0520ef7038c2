"""Errors the service layer raises: one class per Rekognition error code.

The CLI turns any `ServiceError` into
`An error occurred (<code>) when calling the <Operation> operation: <message>` and exit 254,
exactly as the aws CLI does for an error returned by the real service.
"""


class ServiceError(Exception):
    """An error answered by the (local) Rekognition service."""

    code = "ServiceError"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _error(code: str) -> type:
    return type(code, (ServiceError,), {"code": code, "__doc__": f"Rekognition {code}."})


AccessDeniedException = _error("AccessDeniedException")
ConflictException = _error("ConflictException")
IdempotentParameterMismatchException = _error("IdempotentParameterMismatchException")
ImageTooLargeException = _error("ImageTooLargeException")
InternalServerError = _error("InternalServerError")
InvalidImageFormatException = _error("InvalidImageFormatException")
InvalidPaginationTokenException = _error("InvalidPaginationTokenException")
InvalidParameterException = _error("InvalidParameterException")
InvalidS3ObjectException = _error("InvalidS3ObjectException")
LimitExceededException = _error("LimitExceededException")
ResourceAlreadyExistsException = _error("ResourceAlreadyExistsException")
ResourceNotFoundException = _error("ResourceNotFoundException")
ServiceQuotaExceededException = _error("ServiceQuotaExceededException")
ThrottlingException = _error("ThrottlingException")
VideoTooLargeException = _error("VideoTooLargeException")


# Messages the real service uses, word for word, where the reference records them.
NO_FACES_MESSAGE = "There are no faces in the image. Should be at least 1."
INVALID_PARAMETERS_MESSAGE = "Request has invalid parameters"
INVALID_IMAGE_FORMAT_MESSAGE = "Request has invalid image format"
IMAGE_TOO_LARGE_MESSAGE = "Image size is too large"
S3_OBJECT_MESSAGE = (
    "Unable to get object metadata from S3. Check object key, region and/or access permissions."
)
