"""`rekcli serve`: the local service behind an AWS JSON 1.1 endpoint.

The server is one more caller of `rekcli.service.invoke`; it only translates HTTP to a
request dict and a response dict (or ServiceError) back to HTTP. Nothing here imports the
face engine in the front process: face analysis runs in worker processes (see workers.py).
"""
