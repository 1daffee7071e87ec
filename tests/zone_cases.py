"""Schedules and machines across time zone rules, shared by the crontab translation and
the systemd timer tests."""

# (cron, schedule zone, machine zone): DST both ways, half- and quarter-hour offsets,
# changes at midnight, the southern hemisphere, day-of-month/day-of-week OR, month ends.
CASES = [
    ("30 2 * * *", "America/New_York", "UTC"),
    ("0 2 * * 1", "America/New_York", "Europe/Berlin"),
    ("30 6 * * *", "UTC", "America/New_York"),
    ("15 1 * * *", "Europe/London", "America/Chicago"),
    ("0,30 9-17 * * 1-5", "Asia/Tokyo", "America/Los_Angeles"),
    ("45 23 31 * *", "Asia/Kathmandu", "UTC"),
    ("0 0 1 * 1", "Australia/Lord_Howe", "Europe/London"),
    ("10 0 * * *", "America/Santiago", "America/Sao_Paulo"),
    ("0 0 1 1 *", "Pacific/Chatham", "UTC"),
    ("*/20 1-3 * 3,10,11 0", "Europe/Berlin", "America/New_York"),
    ("5 4 29 2 *", "Australia/Sydney", "Asia/Kolkata"),
    ("0 12 * * *", "UTC", "UTC"),
]
