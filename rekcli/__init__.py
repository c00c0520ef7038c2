"""rekcli: `aws rekognition` for faces, computed locally by dlib."""

__version__ = "0.1.0"
