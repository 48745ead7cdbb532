"""Hook implementations of tune-ray: registers the ``ray`` executor."""
