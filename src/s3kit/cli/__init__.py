"""The `s3kit` command line."""
