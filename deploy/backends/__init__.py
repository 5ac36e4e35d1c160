"""What serves a release: a Docker container of its image, or a local process of its code."""
