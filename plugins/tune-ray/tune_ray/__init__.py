"""tune-ray: run tunecore trials in Ray actors on a Ray cluster (executor ``ray``)."""
