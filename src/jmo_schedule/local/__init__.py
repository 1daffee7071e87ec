"""The local backend: the JSON store and the committed-file editor behind ScheduleManager,
the one schedule resolver, the runner with its locks and history, crontab / systemd."""
