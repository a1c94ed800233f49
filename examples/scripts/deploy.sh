#!/bin/sh
# Vetted deploy script run by the `deploy` action (examples/rules/actions.toml) through exec.
# Vigie runs it without a shell between the chat and this file: $1 is exactly one argument, the
# app name, already checked against the action's pattern (regex:[a-z][a-z0-9-]{1,40}). The
# environment holds only PATH, HOME and DEPLOY_GIT_REMOTE_BASE; stdin is /dev/null; the working
# directory is /opt/vigie; at the action's timeout the whole process group is killed.
# Install it owned by root, mode 0755, not writable by the user the worker runs as.
set -eu

app=${1:?usage: deploy.sh <app>}
# Check again here: the script must stay safe even if someone runs it by hand.
case "$app" in
  *[!a-z0-9-]* | -* | "") echo "refusing app name '$app'" >&2; exit 2 ;;
esac
remote="${DEPLOY_GIT_REMOTE_BASE:?DEPLOY_GIT_REMOTE_BASE is not set}/$app.git"
checkout="/opt/vigie/checkouts/$app"

echo "deploying $app from $remote"
if [ -d "$checkout/.git" ]; then
  git -C "$checkout" fetch --quiet origin main
  git -C "$checkout" reset --quiet --hard origin/main
else
  git clone --quiet --branch main -- "$remote" "$checkout"
fi
echo "at $(git -C "$checkout" rev-parse --short HEAD): $(git -C "$checkout" log -1 --format=%s)"
# The app's own deploy step, from its repository (reviewed with the app's code).
cd "$checkout"
exec ./bin/deploy
