"""The package's error types: every problem meant for a user is one of these, in one line."""


class ShallowlabError(Exception):
    """A problem the user can fix; its message says what is wrong, where, and what to do."""


class DataError(ShallowlabError):
    """A data file is missing, unreadable, or not what it claims to be."""


class ConfigError(ShallowlabError):
    """A setting is invalid or does not fit the data."""
