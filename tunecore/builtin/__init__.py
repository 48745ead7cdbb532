"""The core's own components, registered through the ``tunecore`` entry point like any plugin."""
