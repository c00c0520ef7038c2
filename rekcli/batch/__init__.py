"""Many requests in one process tree: the batch runner and the folder jobs built on it."""
