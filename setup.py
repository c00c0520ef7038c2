"""The one thing pyproject.toml cannot say for every setuptools >= 61: the optional C
extension, rekcli's HOG scan (rekcli/engine/_fhog.c; see rekcli/engine/hog_scan.py).

Optional: where no C compiler is present the install still succeeds, and detection uses
dlib's own scan (the same faces, slower). -ffp-contract=off keeps dlib's float roundings in
the features (only the filter loops opt back in to fused multiply-adds).
"""

import sys

from setuptools import Extension, setup

GCC_FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno"]

setup(
    ext_modules=[
        Extension(
            "rekcli.engine._fhog",
            sources=["rekcli/engine/_fhog.c"],
            extra_compile_args=[] if sys.platform == "win32" else GCC_FLAGS,
            optional=True,
        )
    ]
)
