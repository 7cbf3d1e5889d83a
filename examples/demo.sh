#!/usr/bin/env bash
# `make run`: the main job on the bundled sample folder, against the embedded server.
# Upload examples/site/ to s3://demo/site/, list it, download it into a temporary folder and
# check the copy is identical. Safe to run again: it overwrites its own demo objects only.
set -euo pipefail
cd "$(dirname "$0")/.."

export S3KIT_LOCAL=1   # always the embedded server here, whatever AWS settings the shell has
site=examples/site
bucket=s3://demo

s3kit local start
s3kit ls "$bucket" >/dev/null 2>&1 || s3kit mb "$bucket"

echo
echo "== upload $site/ to $bucket/site/"
s3kit cp --recursive --quiet "$site" "$bucket/site/"

echo
echo "== list $bucket/site/"
s3kit ls --recursive --human-readable --summarize "$bucket/site/"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
echo
echo "== download $bucket/site/ to $workdir"
s3kit cp --recursive --quiet "$bucket/site/" "$workdir"

echo
if diff -r "$site" "$workdir" >/dev/null; then
    files=$(find "$site" -type f | wc -l | tr -d ' ')
    bytes=$(find "$site" -type f -exec cat {} + | wc -c | tr -d ' ')
    echo "OK: $files files ($bytes bytes) uploaded to $bucket/site/, downloaded back and identical."
else
    echo "MISMATCH: the downloaded copy differs from $site:" >&2
    diff -r "$site" "$workdir" >&2 || true
    exit 1
fi
echo "The local server keeps running; stop it with: .venv/bin/s3kit local stop"
