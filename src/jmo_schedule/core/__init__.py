"""The core: the ScanSchedule model, YAML text, loading and validation, cron and time,
label selectors. Pure, and light to import: `jmo-schedule validate` needs nothing else."""
