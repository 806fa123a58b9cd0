"""The one exception type users see: a clear, single-line problem + fix."""


class TfvaeError(Exception):
    """An error caused by user input (a flag, a file, a dataset).

    The CLI prints it as one line, ``tfvae: error: <message>``, and exits
    with status 2. The message should name the problem and the fix.
    """
