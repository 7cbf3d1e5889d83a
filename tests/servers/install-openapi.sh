#!/usr/bin/env bash
# Installs GitHub's official OpenAPI description (npm package @octokit/openapi, pinned) into
# .venv/npm, for the GitHub stand-in (tests/github_standin.py), which checks every answer it
# sends against it. Idempotent: a second run with the pinned version in place does nothing.
# Only the npm registry is asked, through npm itself (no install scripts, no audit, no funding
# calls). Where npm is missing or the install fails it says so on one line and exits 0: the
# tests that need the file then skip, saying it is not there — decided before they run, never
# after a failure.
set -euo pipefail

prefix="${1:-.venv/npm}"
version="23.0.2"
package="$prefix/node_modules/@octokit/openapi"
spec="$package/generated/api.github.com.json"

if [ -f "$spec" ] && grep -q "\"version\": \"$version\"" "$package/package.json" 2>/dev/null; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-openapi.sh: npm not found; the GitHub stand-in tests will skip"
    exit 0
fi
mkdir -p "$prefix"
if ! npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
    --loglevel=error --prefix "$prefix" "@octokit/openapi@$version" >/dev/null 2>&1; then
    echo "install-openapi.sh: npm could not install @octokit/openapi@$version; the GitHub stand-in tests will skip"
    exit 0
fi
# The package holds every GitHub flavour, dereferenced twice (385 MB): keep the one file used.
find "$package/generated" -type f ! -name api.github.com.json -delete 2>/dev/null || true
if [ ! -f "$spec" ]; then
    echo "install-openapi.sh: @octokit/openapi@$version has no $spec; the GitHub stand-in tests will skip"
    exit 0
fi
echo "install-openapi.sh: GitHub's OpenAPI description ($version) installed in $package"
