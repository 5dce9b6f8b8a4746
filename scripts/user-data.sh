#!/usr/bin/env bash
# EC2 user-data: install and start the Vigil sensor at first boot.
#
# Fill in the settings below (or template them from your launch template / ASG).
# The sensor names and tags itself from IMDSv2 (instance id, instance type, AZ,
# region, account; the instance's tags too with imds.instance_tags); the static tags
# here (env, deployment id) are added to every event.
#
# Where the configuration comes from, first found wins:
#   1. the SSM parameter VIGIL_SSM_PARAMETER (a SecureString holding sensor.yaml),
#      when set and the AWS CLI is present;
#   2. the sensor.yaml written inline below.
# On an AMI with the sensor baked in (install-sensor.sh --no-start), only the
# configuration step runs; otherwise the binary, install script and unit are fetched
# from VIGIL_ARTIFACTS (an s3:// prefix, read with the instance role).
set -euo pipefail
exec > >(tee -a /var/log/vigil-user-data.log) 2>&1

# --- settings ----------------------------------------------------------------
VIGIL_ARTIFACTS="${VIGIL_ARTIFACTS:-s3://CHANGE-ME-artifacts/vigil/latest}"
VIGIL_SSM_PARAMETER="${VIGIL_SSM_PARAMETER:-}"
VIGIL_STREAM="${VIGIL_STREAM:-vigil-events}"
VIGIL_LAKE_BUCKET="${VIGIL_LAKE_BUCKET:-CHANGE-ME-lake}"
VIGIL_ENV="${VIGIL_ENV:-prod}"
VIGIL_DEPLOYMENT="${VIGIL_DEPLOYMENT:-default}"
# -----------------------------------------------------------------------------

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

case "$(uname -m)" in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) echo "vigil user-data: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

install_args=()
if [ -x /usr/local/bin/vigil-sensor ] && [ -f /etc/systemd/system/vigil-sensor.service ]; then
	echo "vigil user-data: sensor baked into the AMI; configuring only"
	install_script=/usr/local/share/vigil/install-sensor.sh
else
	command -v aws >/dev/null || { echo "vigil user-data: the AWS CLI is needed to fetch $VIGIL_ARTIFACTS" >&2; exit 1; }
	aws s3 cp --only-show-errors "$VIGIL_ARTIFACTS/vigil-sensor-linux-$arch" "$workdir/vigil-sensor"
	aws s3 cp --only-show-errors "$VIGIL_ARTIFACTS/install-sensor.sh" "$workdir/install-sensor.sh"
	aws s3 cp --only-show-errors "$VIGIL_ARTIFACTS/vigil-sensor.service" "$workdir/vigil-sensor.service"
	install_script="$workdir/install-sensor.sh"
	install_args+=(--binary "$workdir/vigil-sensor" --unit "$workdir/vigil-sensor.service")
fi

if [ -n "$VIGIL_SSM_PARAMETER" ] && command -v aws >/dev/null; then
	install_args+=(--ssm-parameter "$VIGIL_SSM_PARAMETER")
else
	cat >"$workdir/sensor.yaml" <<YAML
# written by user-data; see docs/sensor.md for every field
stream: ${VIGIL_STREAM}
lake_bucket: ${VIGIL_LAKE_BUCKET}
tags:
  env: ${VIGIL_ENV}
  deployment: ${VIGIL_DEPLOYMENT}
spool:
  dir: /var/lib/vigil/spool
  max_bytes: 1GiB
statsd: 127.0.0.1:8125
imds:
  enabled: true
  instance_tags: false
YAML
	install_args+=(--config "$workdir/sensor.yaml")
fi

bash "$install_script" "${install_args[@]}"
