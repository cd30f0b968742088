"""The tutor's dialogue: the Socratic chat, the model's misconception diagnosis, and the
answer-leak guard that stands between everything the model writes and the student.

Pure logic over the ``ModelBackend`` protocol: no storage, no UI.
"""
