"""The platforms jmo-schedule talks to: one HTTP layer, one GitHub client, one GitLab
client, Slack incoming webhooks."""
