"""The local stand-ins the tests talk to, one per platform, each on 127.0.0.1 and answering
as the platform documents (refusals included): slack.py (incoming webhooks, and a scripted
server for any HTTP test), github.py (the REST API of one repository), gitlab.py (one
project's REST API and its git push options); crontab.py stands in for Debian's crontab."""
