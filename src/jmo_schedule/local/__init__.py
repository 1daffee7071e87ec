"""The local backend: private files, the JSON store and the committed-file editor, the
one schedule resolver, the runner with its locks and history, crontab / systemd."""
