"""CI: the matrix of a repository run as check runs on pull requests, re-runs, schedules and
tags, each stage in the stage sandbox. It imports nothing of workers/deploys/."""
