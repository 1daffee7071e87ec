"""Keeping generated files and platform state in step with schedules.yaml: the sync plan,
drift checks, the bot pull / merge request, GitLab pipeline schedules, history pruning."""
