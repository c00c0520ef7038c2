"""rekcli: `aws rekognition` for faces, computed locally by dlib."""

import logging

__version__ = "0.1.0"

# rekcli logs to stderr only when asked (--debug adds a handler in cli/main.py). Without a
# handler of its own, Python would print warnings anyway (logging.lastResort), for example
# from batch worker processes.
logging.getLogger("rekcli").addHandler(logging.NullHandler())
