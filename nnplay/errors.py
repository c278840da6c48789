"""The one error type for bad input, shared by every layer, and the command line's exit status
for it."""

EXIT_BAD_INPUT = 2  # the process exit status when an ExperimentError ends a command


class ExperimentError(ValueError):
    """Bad input: the message names the field, the bad value and what is allowed."""
