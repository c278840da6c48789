"""The one error type for bad input, shared by every layer."""


class ExperimentError(ValueError):
    """Bad input: the message names the field, the bad value and what is allowed."""
