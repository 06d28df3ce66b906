"""The book's exercises: every one of the sections shallowlab covers, answered, run or checked.

``catalog`` holds them as data (``book/*.json``) and finds them by ID; nothing here imports
torch until an answer runs.
"""
