__version__ = "1.0.0"
PROG = "jmo-schedule"  # the command's name, in usage lines and one-line errors
