"""Pictures: the upload pipeline, copies between manuals, serving.

A feature folder of manuals/: a Django app without models of its own (they live in
manuals.models), so that its commands and template tags sit beside its code.
"""
