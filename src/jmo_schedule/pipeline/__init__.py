"""What runs inside a generated pipeline: the guard, Slack notifications, findings and
the reports GitLab shows, the validate reporter, GitHub workflow commands."""
