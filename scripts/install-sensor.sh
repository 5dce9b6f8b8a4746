#!/usr/bin/env bash
# Install the Vigil sensor as a systemd service.
#
#   install-sensor.sh --binary PATH [--config FILE | --ssm-parameter NAME] [--no-start]
#
#   --binary PATH          the vigil-sensor binary to install (/usr/local/bin/vigil-sensor)
#   --config FILE          copy FILE to /etc/vigil/sensor.yaml
#   --ssm-parameter NAME   fetch /etc/vigil/sensor.yaml from this SSM parameter
#                          (aws ssm get-parameter --with-decryption; needs the AWS CLI
#                          and ssm:GetParameter in the instance role)
#   --unit FILE            the systemd unit (default: vigil-sensor.service beside this script)
#   --no-start             install and enable, do not start (AMI baking: the sensor starts
#                          at the next boot, once user-data has written its configuration)
#
# The configuration is checked with `vigil-sensor --check` before the service starts.
# Idempotent: running it again upgrades the binary and unit and restarts the service.
set -euo pipefail

prefix=/usr/local/bin
confdir=/etc/vigil
spooldir=/var/lib/vigil/spool
unitdir=/etc/systemd/system
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

binary=""
config=""
ssm_parameter=""
unit="$script_dir/vigil-sensor.service"
[ -f "$unit" ] || unit=/usr/local/share/vigil/vigil-sensor.service
start=1

die() {
	echo "install-sensor: $*" >&2
	exit 1
}

usage() {
	sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--binary) binary=${2:?--binary needs a path}; shift 2 ;;
	--config) config=${2:?--config needs a file}; shift 2 ;;
	--ssm-parameter) ssm_parameter=${2:?--ssm-parameter needs a name}; shift 2 ;;
	--unit) unit=${2:?--unit needs a file}; shift 2 ;;
	--no-start) start=0; shift ;;
	-h | --help) usage 0 ;;
	*) echo "install-sensor: unknown argument $1" >&2; usage 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -n "$binary" ] || [ -x "$prefix/vigil-sensor" ] || die "give --binary PATH (no $prefix/vigil-sensor installed yet)"
[ -z "$binary" ] || [ -f "$binary" ] || die "binary $binary not found"
[ -f "$unit" ] || die "systemd unit $unit not found"
command -v systemctl >/dev/null || die "systemd is required"

install -d -m 0755 "$confdir"
install -d -m 0700 "$spooldir"
if [ -n "$binary" ]; then
	install -m 0755 "$binary" "$prefix/vigil-sensor.new"
	mv -f "$prefix/vigil-sensor.new" "$prefix/vigil-sensor"
fi

# configuration: an SSM parameter, a file, or what is already there
if [ -n "$ssm_parameter" ]; then
	command -v aws >/dev/null || die "--ssm-parameter needs the AWS CLI (aws)"
	tmp=$(mktemp "$confdir/.sensor.yaml.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	aws ssm get-parameter --name "$ssm_parameter" --with-decryption \
		--query Parameter.Value --output text >"$tmp" ||
		die "could not read SSM parameter $ssm_parameter"
	chmod 0600 "$tmp"
	mv -f "$tmp" "$confdir/sensor.yaml"
elif [ -n "$config" ]; then
	install -m 0600 "$config" "$confdir/sensor.yaml"
fi

if [ -f "$confdir/sensor.yaml" ]; then
	"$prefix/vigil-sensor" --check --config "$confdir/sensor.yaml" >/dev/null ||
		die "$confdir/sensor.yaml is not valid (see above)"
elif [ "$start" -eq 1 ]; then
	die "no configuration: give --config FILE or --ssm-parameter NAME, or write $confdir/sensor.yaml"
fi

install -m 0644 "$unit" "$unitdir/vigil-sensor.service"
# kept for user-data on AMIs baked with this script
install -d -m 0755 /usr/local/share/vigil
if [ "$(realpath "${BASH_SOURCE[0]}")" != /usr/local/share/vigil/install-sensor.sh ]; then
	install -m 0755 "${BASH_SOURCE[0]}" /usr/local/share/vigil/install-sensor.sh
fi
if [ "$(realpath "$unit")" != /usr/local/share/vigil/vigil-sensor.service ]; then
	install -m 0644 "$unit" /usr/local/share/vigil/vigil-sensor.service
fi
systemctl daemon-reload
systemctl enable vigil-sensor.service >/dev/null
if [ "$start" -eq 1 ]; then
	systemctl restart vigil-sensor.service
	echo "install-sensor: vigil-sensor $("$prefix/vigil-sensor" --version) running (journalctl -u vigil-sensor)"
else
	echo "install-sensor: vigil-sensor installed and enabled; it starts at the next boot"
fi
