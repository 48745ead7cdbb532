"""The component templates of ``tunecore new-plugin``: one working component per kind, named ``Example<Kind>``.

They are real modules (linted and type-checked with the core); :mod:`tunecore.scaffold` copies one into a new
distribution, renaming its class.
"""
