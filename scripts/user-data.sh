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
#
# Response tasks (isolate, rejoin, kill, snapshot) are optional: set VIGIL_API_URL
# for the inline configuration (or the respond section in the SSM parameter's
# sensor.yaml), and VIGIL_API_KEY_PARAMETER, the SSM SecureString holding the
# sensor's API key (vigil keys create). The key is written to /etc/vigil/api-key
# (mode 0600), never into user-data, which any process on the instance can read
# from IMDS. VIGIL_TASK_BELL_TABLE (the stack's TaskBellsTableName output) makes
# the sensor ask the API only when a task was created for it.
set -euo pipefail

# --- settings ----------------------------------------------------------------
VIGIL_ARTIFACTS="${VIGIL_ARTIFACTS:-s3://CHANGE-ME-artifacts/vigil/latest}"
VIGIL_SSM_PARAMETER="${VIGIL_SSM_PARAMETER:-}"
VIGIL_STREAM="${VIGIL_STREAM:-vigil-events}"
VIGIL_LAKE_BUCKET="${VIGIL_LAKE_BUCKET:-CHANGE-ME-lake}"
VIGIL_ENV="${VIGIL_ENV:-prod}"
VIGIL_DEPLOYMENT="${VIGIL_DEPLOYMENT:-default}"
# response tasks: off while VIGIL_API_URL is empty
VIGIL_API_URL="${VIGIL_API_URL:-}"
VIGIL_ORG="${VIGIL_ORG:-default}"
VIGIL_API_KEY_PARAMETER="${VIGIL_API_KEY_PARAMETER:-}"
# the task bells table: read every poll interval, the API asked when it rang
VIGIL_TASK_BELL_TABLE="${VIGIL_TASK_BELL_TABLE:-}"
# endpoints kept reachable while isolated, comma-separated (default: the API and
# the region's Kinesis, S3 and DynamoDB endpoints)
VIGIL_RESPOND_BACKEND="${VIGIL_RESPOND_BACKEND:-}"
# -----------------------------------------------------------------------------

api_key_file=/etc/vigil/api-key

# imds_region prints the instance's region (IMDSv2).
imds_region() {
	local token
	token=$(curl -fsS -m 5 -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60") &&
		curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region
}

# respond_backend REGION prints the endpoints an isolated host keeps reaching:
# VIGIL_RESPOND_BACKEND, else the API and the region's Kinesis and S3 endpoints
# (the lake bucket's own name included), and DynamoDB's with a task bell table.
respond_backend() {
	if [ -n "$VIGIL_RESPOND_BACKEND" ]; then
		echo "$VIGIL_RESPOND_BACKEND"
		return
	fi
	local backend="$VIGIL_API_URL,kinesis.$1.amazonaws.com,s3.$1.amazonaws.com,$VIGIL_LAKE_BUCKET.s3.$1.amazonaws.com"
	if [ -n "$VIGIL_TASK_BELL_TABLE" ]; then
		backend="$backend,dynamodb.$1.amazonaws.com"
	fi
	echo "$backend"
}

# write_config FILE BACKEND writes the inline sensor.yaml; BACKEND (from
# respond_backend) is used only with VIGIL_API_URL.
write_config() {
	cat >"$1" <<YAML
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
  enabled: true           # user-data runs on EC2: ask IMDSv2 whatever DMI says (auto: DMI decides)
  instance_tags: false
YAML
	if [ -n "$VIGIL_API_URL" ]; then
		cat >>"$1" <<YAML
respond:
  api_url: "${VIGIL_API_URL}"
  org: "${VIGIL_ORG}"
  api_key_file: ${api_key_file}
  backend: "$2"
YAML
		if [ -n "$VIGIL_TASK_BELL_TABLE" ]; then
			echo "  task_bell_table: \"${VIGIL_TASK_BELL_TABLE}\"" >>"$1"
		fi
	fi
}

# fetch_api_key FILE writes the SSM parameter VIGIL_API_KEY_PARAMETER to FILE
# (mode 0600, replaced atomically).
fetch_api_key() {
	local tmp
	command -v aws >/dev/null || { echo "vigil user-data: the AWS CLI is needed to read $VIGIL_API_KEY_PARAMETER" >&2; return 1; }
	install -d -m 0755 "$(dirname "$1")"
	tmp=$(mktemp "$1.XXXXXX")
	if ! aws ssm get-parameter --name "$VIGIL_API_KEY_PARAMETER" --with-decryption \
		--query Parameter.Value --output text >"$tmp"; then
		rm -f "$tmp"
		echo "vigil user-data: could not read SSM parameter $VIGIL_API_KEY_PARAMETER" >&2
		return 1
	fi
	chmod 0600 "$tmp"
	mv -f "$tmp" "$1"
}

main() {
	exec > >(tee -a /var/log/vigil-user-data.log) 2>&1

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

	# the key is in place before install-sensor.sh checks the configuration
	if [ -n "$VIGIL_API_KEY_PARAMETER" ]; then
		fetch_api_key "$api_key_file"
	fi

	if [ -n "$VIGIL_SSM_PARAMETER" ] && command -v aws >/dev/null; then
		install_args+=(--ssm-parameter "$VIGIL_SSM_PARAMETER")
	else
		backend=""
		if [ -n "$VIGIL_API_URL" ]; then
			if [ -z "$VIGIL_RESPOND_BACKEND" ]; then
				region=$(imds_region) || { echo "vigil user-data: no region from IMDS: set VIGIL_RESPOND_BACKEND" >&2; exit 1; }
			fi
			backend=$(respond_backend "${region:-}")
		fi
		write_config "$workdir/sensor.yaml" "$backend"
		install_args+=(--config "$workdir/sensor.yaml")
	fi

	bash "$install_script" "${install_args[@]}"
}

# sourced (by the tests), only the functions are defined
if ! (return 0 2>/dev/null); then
	main "$@"
fi
