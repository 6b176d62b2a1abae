#!/usr/bin/env bash
# Every package's `npm test` (and scripts/test.sh's end-to-end runs): jest with
# ES modules enabled in its VM. The platform's Kafka producer client,
# @platformatic/kafka, is an ES module loaded with import() (jest.preset.js
# keeps import() as is); jest on Node 20 loads an ES module only in this mode
# (https://jestjs.io/docs/ecmascript-modules). Test files stay CommonJS.
set -euo pipefail
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--experimental-vm-modules --disable-warning=ExperimentalWarning"
exec "$(dirname "$0")/../node_modules/.bin/jest" "$@"
