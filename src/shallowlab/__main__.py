from shallowlab.cli import entry

entry()
